"""Generate the binary and MIME documents of the bundled sample corpus.

DEV-ONLY TOOL. It needs ``fpdf2`` (PDF) and ``python-docx`` (DOCX), which are
not runtime dependencies of ragseal: ``pip install fpdf2 python-docx``. The
generated files are committed, so the corpus exists without running this.

    python samples/make_corpus.py            # (re)write the .pdf, .docx and .eml files
    python samples/make_corpus.py --check    # verify every document of both tenants

Everything here is fictional: Acme Robotics (acme.example), its people and
customers. Identity numbers are realistic fakes; card numbers are the card
networks' public test numbers; IBANs are the published examples (or built
with valid mod-97 check digits) and belong to nobody.

The text-based documents (.txt, .md, .html) are written by hand and live in
``samples/corpus``; this script writes the PDF, DOCX and e-mail documents
from the content below and is deterministic: running it twice gives
byte-identical files.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import io
import re
import sys
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
OTHER = HERE / "other-tenant"
FIXED_TIME = dt.datetime(2026, 11, 20, 12, 0, 0, tzinfo=dt.UTC)
ZIP_TIME = (2026, 11, 20, 12, 0, 0)

# --------------------------------------------------------------------------
# Document model: a title, then blocks (heading, paragraph, bullets, table).
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class H:
    text: str
    level: int = 1


@dataclass(frozen=True)
class P:
    text: str
    bold: bool = False


@dataclass(frozen=True)
class Bullets:
    items: Sequence[str]


@dataclass(frozen=True)
class Table:
    rows: Sequence[Sequence[str]]  # first row is the header
    widths: Sequence[float] = ()


Block = H | P | Bullets | Table


@dataclass(frozen=True)
class Doc:
    path: str
    title: str
    blocks: Sequence[Block]
    author: str = "Acme Robotics"


@dataclass(frozen=True)
class Mail:
    path: str
    sender: str
    to: Sequence[str]
    subject: str
    date: str  # RFC 2822
    message_id: str
    body: str  # plain text; paragraphs separated by blank lines
    cc: Sequence[str] = ()
    headers: Sequence[tuple[str, str]] = field(default_factory=tuple)


# --------------------------------------------------------------------------
# PDF documents
# --------------------------------------------------------------------------

BOARD_MEMO = Doc(
    path="board/board-memo-2026-11-project-nightjar.pdf",
    title="Memorandum to the Board of Directors - Project Nightjar",
    author="Office of the CEO",
    blocks=[
        P("STRICTLY CONFIDENTIAL - BOARD OF DIRECTORS ONLY", bold=True),
        P(
            "Do not forward, print or discuss outside the Board and the deal team. This memorandum "
            "contains material non-public information."
        ),
        Table(
            [
                ["To", "Board of Directors, Acme Robotics, Inc."],
                ["From", "Helen Zhao, CEO; Priya Raman, CFO; Samuel Adeyemi, General Counsel"],
                ["Date", "November 12, 2026"],
                ["Subject", "Project Nightjar - proposed acquisition of Lumen Perception, Inc."],
            ],
            widths=(30, 150),
        ),
        H("1. Purpose"),
        P(
            "This memorandum asks the Board to authorise management to submit a non-binding "
            "indication of interest for the acquisition of Lumen Perception, Inc. (code name "
            "Nightjar), a 38-person machine vision company in Pittsburgh, and to spend up to "
            "USD 1.2 million on due diligence and advisers. It follows the executive session of "
            "September 24, 2026."
        ),
        H("2. Why Nightjar"),
        P(
            "Every ArmX2 ships with a vision module that we license from Lumen. The license costs "
            "USD 2,100 per arm, about 9 percent of our bill of materials, and Lumen's roadmap "
            "decides how fast we can add new grasp types. Owning Lumen would remove the license "
            "fee, give us a team of 22 vision engineers, and protect us from a competitor "
            "acquiring our main supplier. Project Bluebird, the mobile manipulation platform, "
            "depends on Lumen's 3D perception stack even more than ArmX2 does."
        ),
        H("3. Proposed terms"),
        Bullets(
            [
                "Enterprise value of USD 84 to 96 million, on a cash-free, debt-free basis.",
                "Consideration: 70 percent cash from the balance sheet, 30 percent Acme stock.",
                "Retention pool of USD 9 million for Lumen engineers, vesting over three years.",
                "Exclusivity of 60 days from signing the indication of interest.",
                "Target signing: February 2027; closing after antitrust clearance, expected Q2 "
                "2027.",
            ]
        ),
        H("4. Financial impact"),
        P(
            "Priya Raman's model assumes license savings of USD 5.4 million in 2027 and 8.1 "
            "million in 2028, offset by Lumen's operating costs of USD 7.0 million a year. The "
            "deal becomes accretive to operating margin in 2028. After closing, cash would fall "
            "from USD 61 million to about USD 24 million, close to our minimum cash covenant of "
            "USD 20 million, so we would draw on the USD 25 million credit facility negotiated in "
            "2025."
        ),
        H("5. Risks"),
        Bullets(
            [
                "Key people: Lumen's two founders hold most of the know-how. We propose retention "
                "agreements as a condition of signing.",
                "Customers: Lumen sells to two of our competitors (about 35 percent of its "
                "revenue). Those contracts may have change-of-control clauses.",
                "Leaks: a rumour of the deal could push Lumen to run an auction. Only the people "
                "on the deal list may know the code name Nightjar and the target's identity.",
            ]
        ),
        H("6. Resolution requested"),
        P(
            "That the Board authorise the CEO to submit a non-binding indication of interest "
            "within the range above and approve a due diligence budget of up to USD 1.2 million."
        ),
        P(
            "Deal team: Helen Zhao, Priya Raman, Samuel Adeyemi, Marcus Lee. Questions to the CEO "
            "at ceo@acme.example or by phone at +1 (617) 555-0101."
        ),
        P("STRICTLY CONFIDENTIAL", bold=True),
    ],
)

ONBOARDING_FORM = Doc(
    path="hr/onboarding/new-hire-form-jonas-weber.pdf",
    title="New Hire Onboarding Form",
    author="People Operations",
    blocks=[
        P("CONFIDENTIAL - HR", bold=True),
        P(
            "Acme Robotics, Inc. - People Operations. Complete all sections and return the signed "
            "form to your HR business partner before your first day. The information is used for "
            "payroll, benefits and tax reporting only."
        ),
        H("Section 1 - Employee information"),
        Table(
            [
                ["Field", "Value"],
                ["Full legal name", "Jonas Michael Weber"],
                ["Employee ID", "EMP-205311"],
                ["Social Security Number", "412-67-3390"],
                ["Date of birth", "1991-07-23"],
                ["Home address", "2218 W Roscoe St, Apt 3, Chicago, IL 60618"],
                ["Personal e-mail", "jonas.weber.chi@mailbox.example"],
                ["Mobile phone", "+1 (617) 555-0175"],
                ["Work e-mail", "jonas.weber@acme.example"],
            ],
            widths=(60, 120),
        ),
        H("Section 2 - Position"),
        Table(
            [
                ["Field", "Value"],
                ["Job title", "Field Service Engineer"],
                ["Department", "Customer Success"],
                ["Manager", "Rachel Kim"],
                ["Start date", "November 2, 2026"],
                ["Work location", "Remote - Chicago, Illinois (Midwest region)"],
                ["Annual base salary", "USD 98,000"],
            ],
            widths=(60, 120),
        ),
        H("Section 3 - Emergency contact"),
        Table(
            [
                ["Field", "Value"],
                ["Name", "Anna Weber (spouse)"],
                ["Phone", "+1 (312) 555-0148"],
            ],
            widths=(60, 120),
        ),
        H("Section 4 - Direct deposit"),
        P(
            "Bank: JPMorgan Chase. Routing number 021000021, checking account number 483920176554. "
            "A voided check is attached."
        ),
        H("Section 5 - Benefits enrollment"),
        P(
            "Medical: PPO, employee and spouse. Dental: standard. Vision: declined. 401(k): 6 "
            "percent of base salary, with the company match of up to 4 percent. Enrollment forms "
            "for the benefits provider, Harborview Benefits, can be returned by fax."
        ),
        Table(
            [
                ["Benefits provider", "Harborview Benefits Administration"],
                ["Phone", "+1 (800) 555-0163"],
                ["Fax:", "+1 (617) 555-0199"],
                ["Group number", "HBA-44172-ACME"],
            ],
            widths=(60, 120),
        ),
        H("Section 6 - Signatures"),
        P(
            "I confirm that the information above is true and complete. I authorise Acme Robotics "
            "to use it for payroll and benefits administration."
        ),
        P(
            "Employee: Jonas Weber, signed October 28, 2026. HR business partner: Maria Gonzalez "
            "(maria.gonzalez@acme.example), received October 29, 2026."
        ),
    ],
)

CONTRACT_REVIEW = Doc(
    path="legal/contract-review-northwind-msa.pdf",
    title="Contract Review - Northwind Logistics Master Services Agreement",
    author="Legal",
    blocks=[
        P(
            "Attorney-client privileged. Prepared by the Legal department at the request of the "
            "Sales team; do not share with the customer.",
            bold=True,
        ),
        Table(
            [
                ["Counterparty", "Northwind Logistics LLC, Joliet, Illinois"],
                [
                    "Agreement",
                    "Master Services Agreement and Order Form 3 (40 ArmX2, RaaS, 36 months)",
                ],
                ["Customer contact", "Tom Becker, Director of Operations"],
                ["Acme owner", "Account executive: Laura Brennan; reviewer: Samuel Adeyemi"],
                ["Date of review", "November 9, 2026"],
            ],
            widths=(40, 140),
        ),
        H("1. Summary"),
        P(
            "Northwind's redline of our standard MSA is acceptable with four changes. Two of "
            "them, the uncapped data breach indemnity and the most-favoured-customer clause, must "
            "not be accepted as drafted. The deal is worth about USD 2.4 million over 36 months "
            "and is the expansion of the Joliet pilot."
        ),
        H("2. Issues"),
        Table(
            [
                ["Clause", "Northwind position", "Recommendation"],
                [
                    "9.3 Limitation of liability",
                    "Cap at 2x annual fees",
                    "Accept; our standard is 1x",
                ],
                [
                    "10.1 Data breach indemnity",
                    "Uncapped",
                    "Reject; offer a super-cap of 3x annual fees",
                ],
                [
                    "12 Most-favoured customer",
                    "Best price to any customer",
                    "Reject; offer a 24-month price lock instead",
                ],
                [
                    "15.2 Uptime credits",
                    "5% credit per hour below 99.5%",
                    "Accept at 99.0% with a monthly cap of 25%",
                ],
                ["18 Governing law", "Illinois", "Accept"],
            ],
            widths=(45, 60, 75),
        ),
        H("3. Data protection"),
        P(
            "FleetView will process pick data and camera images from the Joliet site. The data "
            "processing addendum must describe image retention (30 days), subprocessors and the "
            "breach notification window (72 hours). Northwind asks that images never leave the "
            "United States; our EU-hosted analytics cluster would have to be excluded for this "
            "customer."
        ),
        H("4. Negotiation notes"),
        P(
            "Tom Becker told the account team that Northwind's board has approved the budget and "
            "wants to sign before December 15 to use this year's capital budget. That gives us "
            "leverage on the indemnity. Tom's direct line is +1 (312) 555-0176 and his e-mail is "
            "tom.becker@northwind-logistics.example; all legal correspondence should still go "
            "through Northwind's outside counsel."
        ),
        H("5. Next steps"),
        Bullets(
            [
                "Legal to send our counter-redline by November 16.",
                "Sales to confirm the price lock with the CFO before offering it.",
                "Security to answer Northwind's questionnaire, including the August incident.",
            ]
        ),
        P("Samuel Adeyemi, General Counsel. Privileged and confidential attorney work product."),
    ],
)

# --------------------------------------------------------------------------
# DOCX documents
# --------------------------------------------------------------------------

REMOTE_WORK = Doc(
    path="handbook/remote-work-policy.docx",
    title="Remote and Hybrid Work Policy",
    author="People Operations",
    blocks=[
        P(
            "Owner: People Operations. Applies to all employees of Acme Robotics, Inc. and Acme "
            "Robotics GmbH. Effective April 1, 2026."
        ),
        H("1. Our approach"),
        P(
            "Building robots needs hands on hardware, and building software and customer "
            "relationships often does not. We therefore have three work arrangements. Your "
            "arrangement is agreed with your manager and recorded in the HR system."
        ),
        Table(
            [
                ["Arrangement", "Who", "Office days"],
                ["On-site", "Manufacturing, lab and facilities roles", "Every scheduled shift"],
                ["Hybrid", "Most engineering, product and corporate roles", "Tuesday to Thursday"],
                [
                    "Remote",
                    "Field service, some sales and approved specialists",
                    "Team weeks, 4 per year",
                ],
            ]
        ),
        H("2. Working hours and availability"),
        P(
            "Hybrid and remote employees are reachable during core hours, 10am to 3pm in their own "
            "time zone. Keep your calendar current and set your chat status when you are away. "
            "Meetings that include both Boston and Munich should be held between 9am and 11am "
            "Eastern."
        ),
        H("3. Home office"),
        Bullets(
            [
                "Acme provides a laptop, a monitor, a headset and a one-time home office "
                "allowance of USD 600 (EUR 550 in Germany).",
                "Remote employees receive a monthly internet allowance of USD 50.",
                "Your workspace must allow confidential calls. Lock your screen when you step "
                "away.",
                "Hardware prototypes and customer robot logs may not be taken home without "
                "approval from your director.",
            ]
        ),
        H("4. Working from another location"),
        P(
            "You may work from another location in your country of employment for up to four weeks "
            "a year. Working from another country, even for a few days, has tax and immigration "
            "consequences: request approval from People Operations at least 30 days in advance."
        ),
        H("5. Security"),
        P(
            "Follow the IT Acceptable Use Standard. Use the VPN on public networks, never print "
            "confidential documents at home, and report lost equipment to the IT service desk "
            "within one hour."
        ),
        H("6. Changing your arrangement"),
        P(
            "Talk to your manager first. Requests are answered within two weeks. Changes for "
            "business reasons are announced at least one month in advance, except in emergencies. "
            "Questions: your HR business partner (for the US, Maria Gonzalez) or "
            "people@acme.example."
        ),
    ],
)

PERFORMANCE_REVIEW = Doc(
    path="hr/reviews/performance-review-2026-daniel-okafor.docx",
    title="Annual Performance Review 2026",
    author="Marcus Lee",
    blocks=[
        P(
            "CONFIDENTIAL - HR. Visible to the employee, the manager, the HR business partner and "
            "the calibration committee only."
        ),
        Table(
            [
                ["Employee", "Daniel Okafor"],
                ["Employee ID", "EMP-204817"],
                ["Role", "Staff Site Reliability Engineer, Platform"],
                ["Manager", "Marcus Lee, VP Engineering"],
                ["HR business partner", "Maria Gonzalez"],
                ["Review period", "January 1 - October 31, 2026"],
            ]
        ),
        H("1. Summary"),
        P(
            "Daniel had a strong year and carried the platform team through the ArmX2 launch. He "
            "led the FleetView migration to tiered telemetry storage, which cut hosting costs by "
            "18 percent, and he handled the August 14 database incident calmly and transparently. "
            "Overall rating: 4 - Exceeds expectations."
        ),
        H("2. Goals"),
        Table(
            [
                ["Goal", "Result", "Rating"],
                ["Reduce FleetView hosting cost by 10%", "Achieved 18%", "Exceeded"],
                ["99.9% FleetView availability", "99.86% (August incident)", "Partly met"],
                [
                    "Introduce on-call training for new engineers",
                    "Delivered; 9 engineers trained",
                    "Met",
                ],
                [
                    "Remove secrets from runbooks and repositories",
                    "In progress (PLAT-2291)",
                    "Partly met",
                ],
            ]
        ),
        H("3. Strengths"),
        Bullets(
            [
                "Technical judgement: chose a failover rather than a risky volume resize under "
                "pressure.",
                "Writing: his post-mortem for the August incident is now our template.",
                "Mentoring: he coached Aisha Patel, who joins the platform team from manufacturing "
                "after her leave.",
            ]
        ),
        H("4. Development areas"),
        Bullets(
            [
                "Finish the secrets clean-up. Credentials were pasted into the failover runbook "
                "during the incident and are still there; this is now a top priority.",
                "Delegate more. Daniel was the escalation point for too many incidents this year.",
                "Present platform plans to the leadership team, not only to engineering.",
            ]
        ),
        H("5. Compensation recommendation"),
        P(
            "Merit increase of 5 percent (budget 3.5 percent) and an equity refresh of 6,000 "
            "options, subject to calibration. Promotion to Principal SRE to be considered in the "
            "2027 mid-year cycle."
        ),
        H("6. Employee comments"),
        P(
            "I agree with the review. I would like a budget for a second SRE in Munich so that the "
            "on-call rotation covers European hours. - Daniel Okafor"
        ),
        P(
            "Signed: Marcus Lee (manager), November 5, 2026. Acknowledged: Daniel Okafor, "
            "November 7, 2026. Reviewed by Maria Gonzalez, People Operations."
        ),
    ],
)

CARD_RECONCILIATION = Doc(
    path="finance/payroll/corporate-card-reconciliation-2026-10.docx",
    title="Corporate Card Reconciliation - October 2026",
    author="Finance Operations",
    blocks=[
        P(
            "Prepared by Finance Operations for the October close. Reviewer: Priya Raman, CFO. "
            "Statement period: September 26 - October 25, 2026."
        ),
        H("1. Summary"),
        P(
            "Total spend on the 31 active corporate cards was USD 84,212.37. All but four cards "
            "are fully reconciled. The exceptions below need action by the cardholder or their "
            "manager before November 10, when the statement is paid."
        ),
        H("2. Exceptions"),
        Table(
            [
                ["Cardholder", "Card number", "Amount", "Issue", "Action"],
                [
                    "Daniel Okafor",
                    "4111 1111 1111 1111",
                    "USD 86.40",
                    "Personal hotel minibar charge",
                    "Recovered via payroll PR-2026-10 (consent signed)",
                ],
                [
                    "Rachel Kim",
                    "5555 5555 5555 4444",
                    "USD 150.00",
                    "Personal flight change fee",
                    "Recovered via payroll PR-2026-10",
                ],
                [
                    "Jonas Weber",
                    "4012 8888 8888 1881",
                    "USD 1,184.20",
                    "Missing receipts: Chicago hotel and rental car",
                    "Cardholder to upload by Nov 7",
                ],
                [
                    "Laura Brennan",
                    "3782 822463 10005",
                    "USD 3,940.00",
                    "Customer dinner above limit without VP approval",
                    "Escalated to VP Sales",
                ],
            ],
            widths=(30, 40, 22, 45, 43),
        ),
        H("3. Observations"),
        Bullets(
            [
                "Spend on ride-hailing rose 22 percent after the launch events; still within "
                "policy.",
                "Two suppliers asked cardholders for full card numbers by e-mail. Cardholders "
                "correctly refused. Reminder sent to all cardholders with the Travel and Expense "
                "Policy.",
                "Card ending 1881 was issued on November 2 to a new field service engineer and "
                "already has missing receipts; his manager has been informed.",
            ]
        ),
        H("4. Sign-off"),
        P(
            "Reconciled by Finance Operations on November 3, 2026. Approved by Priya Raman, CFO, "
            "on November 4, 2026. Questions to finance@acme.example."
        ),
    ],
)

# --------------------------------------------------------------------------
# E-mails
# --------------------------------------------------------------------------

ALL_HANDS = Mail(
    path="handbook/all-hands-2026-11.eml",
    sender="Helen Zhao <helen.zhao@acme.example>",
    to=["All Staff <all-staff@acme.example>"],
    subject="November all-hands: ArmX2 launch, Q4 priorities, holiday schedule",
    date="Mon, 09 Nov 2026 08:15:00 -0500",
    message_id="<20261109081500.all-hands@acme.example>",
    body="""Hi everyone,

Thank you for an extraordinary October. ArmX2 launched on October 6 and we have shipped 126 arms
since then, with 412 on order. Here is what I will cover at Thursday's all-hands (November 12,
4pm Eastern / 10pm Munich, in the Boston cafeteria and on video):

1. The launch. Manufacturing ran extra shifts for two months and delivered every launch order on
time. The Northwind Logistics pilot results (31 percent fewer mis-picks) were quoted in three trade
publications. Thank you to everyone who made it happen.

2. FleetView reliability. The August database incident taught us a lot. Daniel Okafor and the
platform team will share what changed: paging for every database alert, safer migrations and a
tested failover. Availability since September has been 99.97 percent.

3. Q4 priorities. (a) Deliver all pre-orders before the holidays. (b) Close the Northwind
expansion. (c) Cut the time from order to first pick to under five days. (d) Hire the five open
roles; referrals are very welcome.

4. People news. Please welcome Jonas Weber, our new field service engineer for the Midwest, and
Lukas Hoffmann, who joined the Munich controls team. Aisha Patel starts family leave next week;
congratulations, Aisha! Maria Gonzalez is your HR business partner for any questions about
benefits enrollment, which closes on December 2.

5. Holidays. The offices are closed on November 26 and 27 and from December 24 to January 1.
Support and platform on-call continue as usual; on-call staff receive the holiday premium.

Please send your questions in advance through the anonymous form or ask them live. The recording
will be posted on the intranet within a day.

Helen

--
Helen Zhao
Chief Executive Officer, Acme Robotics, Inc.
""",
)

LEAVE_REQUEST = Mail(
    path="hr/leave-request-aisha-patel.eml",
    sender="Aisha Patel <aisha.patel@acme.example>",
    to=["Maria Gonzalez <maria.gonzalez@acme.example>"],
    cc=["Kevin O'Brien <kevin.obrien@acme.example>"],
    subject="Family leave request from November 16 (EMP-203954)",
    date="Tue, 27 Oct 2026 17:42:10 -0400",
    message_id="<CAF7e2x0-aisha-leave-20261027@acme.example>",
    body="""Hi Maria,

As we discussed last week, I would like to request family leave for the birth of my daughter,
expected on November 20. I would like the leave to start on Monday, November 16 and to last
twelve weeks, until February 5, 2027. I plan to come back full time on February 8.

My details for the request:
Name: Aisha Patel
Employee ID: EMP-203954
Department: Manufacturing (joining Daniel Okafor's platform team after my leave)
Mobile phone: +1 (617) 555-0161

I have attached the certification from my doctor and the state paid leave application. Could you
confirm how the company top-up works with the state program? I understood from the handbook that
Acme tops up to full pay for the first six weeks.

Kevin (copied) has agreed the hand-over: Jonas from field service will cover my calibration
rotation on the assembly floor, and I will finish the torque sensor test plan before I leave.

While I am away, please use my personal e-mail, aisha.patel.home@mailbox.example, or call my
mobile for anything urgent. I will not be checking work e-mail.

Thank you for all your help with this.

Best,
Aisha

--
Aisha Patel
Robotics Technician II, Acme Robotics
Mobile: +1 (617) 555-0161
""",
)

VENDOR_BANK_CHANGE = Mail(
    path="finance/vendor-bank-details-change-kestrel.eml",
    sender="Priya Raman <priya.raman@acme.example>",
    to=["Finance Team <finance@acme.example>"],
    subject="FW: URGENT - Kestrel Precision new bank account - DO NOT PAY",
    date="Wed, 04 Nov 2026 10:05:33 -0500",
    message_id="<20261104100533.fw-kestrel@acme.example>",
    body="""Team,

Forwarding the message below, which arrived at accounts payable yesterday. Do NOT change Kestrel's
bank details and do not pay invoice KPC-88213 to the new account. I called our contact at Kestrel
on the number in the supply agreement; they did not send this e-mail and their bank has not
changed. The sender domain is kestrel-precision-gmbh.example, not their real domain.

Our verified payment details for Kestrel Precision Components GmbH remain:
IBAN DE69 7002 0270 0015 2438 07, HypoVereinsbank Munich.

The account in the fraudulent request (Ireland) has been reported to our bank and to the
security team. Please re-read the payment change procedure: every change of bank details needs a
call-back to a phone number we already have on file, and two approvals in the finance system.

Thanks to Ben in accounts payable for spotting it.

Priya

--
Priya Raman
Chief Financial Officer, Acme Robotics, Inc.
Phone: +1 (617) 555-0107

---------- Forwarded message ----------
From: Accounts Receivable <ar@kestrel-precision-gmbh.example>
Date: Tue, 3 Nov 2026 at 16:51
Subject: URGENT - updated bank details for all open invoices
To: ap@acme.example

Dear customer,

Due to an audit of our banking arrangements, all payments to Kestrel Precision Components must
from today be made to our new account. Please update your records immediately and settle invoice
KPC-88213 (EUR 186,420.00) before Friday to avoid a delivery hold:

Account name: Kestrel Precision Components
IBAN: IE29 AIBK 9311 5212 3456 78
BIC: AIBKIE2D

Please confirm by reply e-mail only; our phone lines are being upgraded this week.

Kind regards,
Accounts Receivable
Kestrel Precision Components GmbH
""",
)

TICKET_GRASP = Mail(
    path="support/ticket-48213-grasp-failures.eml",
    sender="Acme Support <support@acme.example>",
    to=["Tom Becker <tom.becker@northwind-logistics.example>"],
    cc=["Jonas Weber <jonas.weber@acme.example>"],
    subject="[Ticket #48213] Grasp failures on ArmX2 cell 3 after firmware 2.4 update",
    date="Thu, 12 Nov 2026 15:20:04 -0600",
    message_id="<ticket-48213-reply-3@support.acme.example>",
    headers=[("X-Ticket-ID", "48213"), ("X-Ticket-Priority", "2")],
    body="""Hi Tom,

Thanks for the logs and for the call this morning. Here is a summary of where we are.

What we found
Cell 3 started failing grasps on polybags after the firmware 2.4 update on November 9. The new
firmware tightens the suction seal check, and the cups on cell 3 are worn (they were last replaced
in June). Cells 1, 2 and 4 have newer cups and are not affected.

Next steps
1. Jonas Weber, our field service engineer for your region, will be at the Joliet site tomorrow,
   Friday November 13, at 7am to replace the cups on cell 3 and check the vacuum lines. He will
   call you on your mobile, +1 (312) 555-0176, when he arrives.
2. As a workaround until then, you can lower the seal threshold in FleetView (Cell 3 > Gripper >
   Seal check > 85 percent). This brings the pick rate back to normal with a small increase in
   drops.
3. We will add a cup wear alert to FleetView so this is flagged before it affects picking.

About the invoice question: the replacement cups are covered by your Premium plan, so there is no
charge. The FleetView renewal that was charged to your company Visa ending 8431 on November 1 is
correct and unrelated to this ticket.

Best regards,
Rachel Kim
Customer Support Team Lead, Acme Robotics
Phone: +1 (617) 555-0123

-----Original message-----
From: Tom Becker <tom.becker@northwind-logistics.example>
Sent: Thursday, November 12, 2026 9:02 AM
To: Acme Support <support@acme.example>
Subject: Grasp failures on ArmX2 cell 3 after firmware 2.4 update

Hello,

Since the update on Monday, cell 3 in our Joliet building drops about one polybag in ten. The
other three cells are fine. We are behind on the morning wave because of this. Logs from FleetView
are attached. Please call me as soon as possible, my cell phone is (312) 555-0176.

Also, can you confirm whether a visit is billed separately? We were charged on the card ending
8431 this month and I want to make sure it was only the renewal.

Thanks,
Tom Becker
Director of Operations, Northwind Logistics
Phone: (312) 555-0176
""",
)

TICKET_BILLING = Mail(
    path="support/ticket-48377-billing-dispute.eml",
    sender="Emily Carter <emily.carter@bayside-fulfillment.example>",
    to=["Acme Support <support@acme.example>"],
    subject="[Ticket #48377] Charged twice for FleetView subscription",
    date="Mon, 16 Nov 2026 11:47:51 -0800",
    message_id="<CAB81d9c-48377@mail.bayside-fulfillment.example>",
    headers=[("X-Ticket-ID", "48377"), ("X-Ticket-Priority", "3")],
    body="""Hello Acme support,

We were charged twice for our FleetView subscription this month: USD 2,450.00 on November 1 and
again USD 2,450.00 on November 3. Our account number with you is BF-10277 and we have 14 arms.

Please refund the second charge to the same card. In case you need it, the card is
6011 1111 1111 1117, expiry 09/28, billing ZIP 94607. I am in the office every day until 5pm
Pacific; my direct phone number is (510) 555-0139.

This is the second billing error this year (the first was in March, ticket 46102). If it is not
fixed this week we will have to dispute the charge with our bank. Please send the corrected invoice
and the refund confirmation to me and to our accounts payable mailbox, and let me know how you
will prevent this from happening again.

Tom Becker from Northwind Logistics recommended Acme to us, and we have been happy with the arms,
but the billing side needs to improve.

Regards,
Emily Carter
Operations Manager, Bayside Fulfillment Inc.
Oakland, CA
Phone: (510) 555-0139
""",
)

# --------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------


def write_pdf(doc: Doc, root: Path) -> Path:
    from fpdf import FPDF

    pdf = FPDF(format="Letter")
    pdf.set_creation_date(FIXED_TIME)
    pdf.set_title(doc.title)
    pdf.set_author(doc.author)
    pdf.set_creator("Acme Robotics document system")
    pdf.set_producer("Acme Robotics document system")
    pdf.set_auto_page_break(auto=True, margin=18)
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    width = pdf.epw
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(width, 8, doc.title, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    for block in doc.blocks:
        if isinstance(block, H):
            pdf.ln(2)
            pdf.set_font("Helvetica", "B", 12)
            pdf.multi_cell(width, 6, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1)
        elif isinstance(block, P):
            pdf.set_font("Helvetica", "B" if block.bold else "", 10)
            pdf.multi_cell(width, 5, block.text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        elif isinstance(block, Bullets):
            pdf.set_font("Helvetica", "", 10)
            for item in block.items:
                pdf.multi_cell(width, 5, f"-  {item}", new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            pdf.ln(1)
        else:
            pdf.set_font("Helvetica", "", 9)
            widths = tuple(block.widths) or tuple(width / len(block.rows[0]) for _ in block.rows[0])
            with pdf.table(col_widths=widths, text_align="LEFT", line_height=5) as table:
                for row in block.rows:
                    cells = table.row()
                    for value in row:
                        cells.cell(value)
            pdf.ln(3)
    out = root / doc.path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(bytes(pdf.output()))
    return out


def write_docx(doc: Doc, root: Path) -> Path:
    import docx

    document = docx.Document()
    props = document.core_properties
    props.title = doc.title
    props.author = doc.author
    props.last_modified_by = doc.author
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    document.add_heading(doc.title, level=0)
    for block in doc.blocks:
        if isinstance(block, H):
            document.add_heading(block.text, level=block.level)
        elif isinstance(block, P):
            para = document.add_paragraph()
            para.add_run(block.text).bold = block.bold
        elif isinstance(block, Bullets):
            for item in block.items:
                document.add_paragraph(item, style="List Bullet")
        else:
            table = document.add_table(rows=0, cols=len(block.rows[0]))
            table.style = "Table Grid"
            for r, row in enumerate(block.rows):
                cells = table.add_row().cells
                for cell, value in zip(cells, row, strict=True):
                    cell.text = value
                    if r == 0 and len(block.rows) > 2:
                        for run in cell.paragraphs[0].runs:
                            run.bold = True
            document.add_paragraph()
    buffer = io.BytesIO()
    document.save(buffer)
    out = root / doc.path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(_deterministic_zip(buffer.getvalue()))
    return out


def _deterministic_zip(data: bytes) -> bytes:
    """Rewrite a zip with fixed timestamps so that the output is reproducible."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _html_body(text: str) -> str:
    paragraphs = [p.strip("\n") for p in text.split("\n\n") if p.strip()]
    parts = ["<html><body>"]
    for para in paragraphs:
        parts.append("<p>" + "<br>\n".join(escape(line) for line in para.splitlines()) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def write_eml(mail: Mail, root: Path) -> Path:
    msg = EmailMessage(policy=email.policy.default)
    msg["From"] = mail.sender
    msg["To"] = ", ".join(mail.to)
    if mail.cc:
        msg["Cc"] = ", ".join(mail.cc)
    msg["Subject"] = mail.subject
    msg["Date"] = mail.date
    msg["Message-ID"] = mail.message_id
    for name, value in mail.headers:
        msg[name] = value
    # 7bit keeps the files readable (the text is ASCII; lines stay under RFC 5322's 998).
    msg.set_content(mail.body, cte="7bit")
    msg.add_alternative(_html_body(mail.body), subtype="html", cte="7bit")
    slug = re.sub(r"[^a-z0-9]+", "-", Path(mail.path).stem.lower())
    msg.set_boundary(f"==acme-{slug}==")
    out = root / mail.path
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(msg.as_bytes(policy=email.policy.default))
    return out


PDFS = (BOARD_MEMO, ONBOARDING_FORM, CONTRACT_REVIEW)
DOCXS = (REMOTE_WORK, PERFORMANCE_REVIEW, CARD_RECONCILIATION)
MAILS = (ALL_HANDS, LEAVE_REQUEST, VENDOR_BANK_CHANGE, TICKET_GRASP, TICKET_BILLING)


def generate(root: Path = CORPUS) -> list[Path]:
    written = [write_pdf(d, root) for d in PDFS]
    written += [write_docx(d, root) for d in DOCXS]
    written += [write_eml(m, root) for m in MAILS]
    return written


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------

SUFFIXES = (".txt", ".md", ".html", ".pdf", ".docx", ".eml")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_CARD = re.compile(r"\b\d{4} \d{4} \d{4} \d{4}\b|\b\d{4} \d{6} \d{5}\b")
_SSN = re.compile(r"\b(\d{3})-(\d{2})-(\d{4})\b")


def extract_text(path: Path) -> str:
    """The text of one corpus document, read the simple way a check can rely on."""
    if path.suffix == ".pdf":
        from pypdf import PdfReader

        reader = PdfReader(path)
        return "\n".join(reader.pages[i].extract_text() for i in range(len(reader.pages)))
    if path.suffix == ".docx":
        import docx

        document = docx.Document(str(path))
        parts = [p.text for p in document.paragraphs]
        for table in document.tables:
            parts += [cell.text for row in table.rows for cell in row.cells]
        return "\n".join(parts)
    if path.suffix == ".eml":
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        part = msg.get_body(preferencelist=("plain",))
        if part is None:
            raise ValueError("no text/plain part")
        return f"{msg['Subject']}\n{part.get_content()}"
    if path.suffix == ".html":
        return re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return path.read_text(encoding="utf-8")


def iban_ok(iban: str) -> bool:
    compact = iban.replace(" ", "")
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def luhn_ok(number: str) -> bool:
    digits = [int(d) for d in number if d.isdigit()][::-1]
    total = sum(d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2) for i, d in enumerate(digits))
    return total % 10 == 0


def ssn_ok(area: str, group: str, serial: str) -> bool:
    bad = {"078051120", "123456789", "219099999", "457555462"}
    return (
        area not in ("000", "666")
        and not area.startswith("9")
        and group != "00"
        and serial != "0000"
        and area + group + serial not in bad
    )


def documents(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.suffix in SUFFIXES:
            yield path


def check(roots: Sequence[Path] = (CORPUS, OTHER)) -> list[str]:
    problems: list[str] = []
    for root in roots:
        for path in documents(root):
            rel = path.relative_to(HERE).as_posix()
            try:
                text = extract_text(path)
            except Exception as exc:  # noqa: BLE001 - report every unreadable file
                problems.append(f"{rel}: unreadable ({exc.__class__.__name__}: {exc})")
                continue
            words = len(text.split())
            if not 150 <= words <= 1500:
                problems.append(f"{rel}: {words} words (want 150-1500)")
            for match in _IBAN.finditer(text):
                if match.group().replace(" ", "")[:2] in {"DE", "GB", "FR", "NL", "ES", "IE"}:
                    if not iban_ok(match.group()):
                        problems.append(f"{rel}: IBAN fails mod-97: {match.group()}")
            # IBAN digit groups look like card numbers; check cards outside IBANs only.
            for match in _CARD.finditer(_IBAN.sub(" ", text)):
                if not luhn_ok(match.group()):
                    problems.append(f"{rel}: card fails Luhn: {match.group()}")
            for match in _SSN.finditer(text):
                if not ssn_ok(*match.groups()):
                    problems.append(f"{rel}: SSN Presidio would reject: {match.group()}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify instead of writing")
    args = parser.parse_args(argv)
    if not args.check:
        for path in generate():
            print(path.relative_to(HERE))  # noqa: T201 - a dev tool's output
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)  # noqa: T201
    counts: dict[str, int] = {}
    for root in (CORPUS, OTHER):
        for path in documents(root):
            counts[path.suffix] = counts.get(path.suffix, 0) + 1
    print("documents by format:", dict(sorted(counts.items())))  # noqa: T201
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
