"""Vendor names that stand for a credential keyword (``cloze: 1f0c...``).

In configuration and notes a key is often named for its vendor alone
(``mattermost 'e2rgfq...'``, ``onesignal: <uuid>``, ``<id>{amadeus ...}``)
with no "key", "token" or "secret" near it. These names act as keywords
for :class:`._secrets.KeywordSecretRecognizer`, under a stricter value rule
than a credential word (a short value must be quoted).

Source: the ``Keywords()`` of trufflehog's detectors
(github.com/trufflesecurity/trufflehog, ``pkg/detectors/*/*.go``, commit
3ab759fef4bb5935d4fe9ac68b503d05346b8364, 2026-08-21): the names only (facts,
one a vendor), lower-cased; kept: purely alphanumeric keywords of 4+
characters. Left out: token prefixes (``akia``, ``eaaa``, ``t3blbkfj``: the
vendor formats in ``_secret_patterns`` cover them), connection schemes
(``postgres``, ``redis``, ``jdbc``, ``amqp``: ``PasswordRecognizer``'s), and
everyday English words that name a vendor too (``close``, ``front``,
``harvest``, ``vault``, ``monday``, ...), which would make any word of prose
a keyword.
"""

from __future__ import annotations

__all__ = ["VENDOR_KEYWORDS"]

VENDOR_KEYWORDS: frozenset[str] = frozenset(
    """
abuseipdb abyssale accuweather adobe adzuna aeroworkflow agora airbrake airship airtable
airvisual aiven alchemy alconost alegra aletheiaapi algolia alienvault allsports amadeus
ambee amplitude anypoint apacta api2cart apideck apiflash apifonica apify apilayer
apimatic apimetrics apitemplate appcues appfollow appointedd appsynergy apptivo
artifactory asana assemblyai atera atlassian auth0 autodesk autoklose autopilot avaza
aviationstack axonaut aylien ayrshare azure bannerbear baremetrics beamer beebole
besnappy besttime betterstack billomat bitbar bitbucket bitcoinaverage bitfinex bitly
bitmex blazemeter blitapp blocknative blogger bombbomb boostnote borgbase braintree
braintrust brandfetch browserstack browshot bscscan buddyns budibase bugherd bugsnag
buildkite bulbul bulksms buttercms caflou calendarific calendly calorieninja campayn
canny capsulecrm captaindata carboninterface cashboard caspio censys centralstationcrm
cexio chartmogul chatfuel checio checklyhq checkvist cicero clarifai clearbit
clicksendsms clickup cliengo clientary clinchpad clockify clockworksms cloudconvert
cloudelements cloudflare cloudimage cloudinary cloudmersive cloudplan cloudsmith
cloverly cloze clustdoc codacy codeclimate codemagic codequiry coinapi coinlayer coinlib
collect2 commercejs companyhub confluence confluent conversiontools convertapi
convertkit convier countrylayer coveralls craftmypdf crowdin cryptocompare currencycloud
currencyfreaks currencylayer currencyscoop currentsapi customerguru customerio d7network
dandelion dareboost databox databricks datadog deepai deepgram deepseek demio detectify
detectlanguage dfuse diffbot diggernaut digitalocean discord disqus dnscheck docker
docparser docsearch documo docusign dovico dronahq droneci dropbox duosecurity duply
dwolla dynalist dyspatch eagleeyenetworks easyinsight ecostruxureit edamam edenai
elasticemail elevenlabs enablex entra etherscan ethplorer eventbrite everhour
exchangerate exchangerates exportsdk extractorapi eyj0exaioijkv1qilcjhbgcioijsuzi1nij9
facebook faceplusplus fastforex fastly feedier fetchrss figma fileio finage
financialmodelingprep finnhub fleetbase flickr flightapi flightstats flowflu fmfw
formbucket formcraft formio formsite foursquare freshbooks freshdesk freshworks
fullstory fxmarket geckoboard gengo geoapify geocode geocodify geoip getemail getemails
getgeoapi getgist getresponse getsandbox github gitlab gitter glassnode gocanvas
gocardless godaddy goodday graphcms graphhopper groovehq gtmetrix guardianapi gumroad
gyazo happyscribe hashicorp hasura hellosign helpcrunch helpscout hereapi heroku hiveage
holidayapi honeycomb html2pdf hubapi hubspot hybiscus hypertrack iconfinder iexapis
iexcloud imagekit imagga infura insightly instabot instamojo intercom interseller
intrinio invoiceocean ip2location ipapi ipgeolocation ipinfo ipinfodb ipquality ipstack
jira jotform jumpcloud jupiterone juro kanbantool karmacrm kickbox klipfolio knapsackpro
kontent kucoin kylas ladesk languagelayer larksuite leadfeeder lemlist lemonsqueezy
lendflow lessannoyingcrm lexigram linenotify linkpreview liveagent livestorm loadmill
locationiq loggly loginradius logz lokalise loyverse lunchmoney luno madkudu magicbell
mailboxlayer mailerlite mailgun mailjet mailmodo mailsac mandrill mapbox mapquest
marketstack mattermost mavenlink maxmind meaningcloud mediastack meistertask meraki
mesibo messagebird metaapi metabase metrilo mindmeister miro mixmax mixpanel mockaroo
mongodb monkeylearn moonclerk moosend moralis mrticktock msal myintervals nasdaq netcore
nethunt netlify netsuite neutrinoapi newrelic newsapi newscatcher nexmo nftport ngrok
nicereply nightfall notion nozbe nozbeteams nuget numverify nutritionix nylas oanda
omnisend onedesk onelogin onepagecrm onesignal onfleet oopspam opencagedata openuv
openvpn openweather opsgenie optimizely overloop owlbot packagecloud pagerduty pandadoc
pandascore paperform paralleldots parsehub parseur partnerstack pastebin paydirtapp
paymoapp paymongo paypal paystack pdflayer pdfshift peopledatalabs pepipost photoroom
pinata pipedream pipedrive pixabay plaid planview planviewleankit planyo plivo podio
pollsapi poloniex portainer portainertoken positionstack postageapp postmark powrbot
prodpad prospectcrm proxycrawl purestake pushbullet pusher pyxis qase qualaroo qubole
railway rapidapi rawg reachmail reallysimplesystems rebrandly redhat rentman repairshopr
replyio requestfinance restpack revampcrm ringcentral ritekit rocketreach route4me rownd
rubygems runrunit runscope salesblink salescookie salesflare salesforce salesmate
satismeter saucelabs scaleway scalr scrapeowl scraperapi scraperbox scrapestack scrapfly
scrapingant scrapingbee screenshotapi screenshotlayer scrutinizer securitytrails
selectpdf sendbird sentry serphouse serpstack sheety sherpadesk shipday shodan shotstack
shutterstock signable signalwire signaturit signupgenius sigopt simfin simplesat
simplynoted simvoly sinch sirv siteleaf skrapp skybiometry smartsheet smartystreets
smooch snipcart snowflake snyk solarwinds sonar sparkpost speechtext splunk spoonacular
sportsmonk spotify squarespace sslmate statuscake statuspage statuspal stitchdata
stockdata storecove stormboard stormglass storyblok storychief strava stripo stytch
sugester supernotes surveyanyplace surveybot surveysparrow survicate swiftype tableau
tallyfy tatum taxjar teamgate teamwork teamworkcrm teamworkdesk teamworkspaces
technicalanalysisapi tefter telegram teletype telnyx testingbot textanywhere textmagic
theoddsapi thinkific thousandeyes ticketmaster tickettailor tiingo timecamp timezoneapi
tmetric todoist toggl tokeet tomtom tradier transferwise travelpayouts travis trello
twelvedata twilio twitch twitter tyntec typeform typetalk uclassify unsplash upcdatabase
uplead uploadcare uptimerobot upwave urlscan userflow userstack vagrant vatlayer vbout
vercel verimail veriphone versioneye viewneo virustotal visualcrossing voicegain
voodoosms vouchery vpnapi vultr vyte walkscore wandb weatherbit weatherstack web3 webex
webflow webscraper webscraping websitepulse wepay whoxy wistia worksnaps workstack
worldcoinindex worldweather wrike yandex yelp youneedabudget yousign youtube zendesk
zenkit zenrows zenscrape zenserp zeplin zerobounce zerotier zipapi zipbooks zipcodeapi
zipcodebase zonka zulip
""".split()
)
