"""The policy a worker classifies under is the driver's, field for field.

The process pool and the Dask engine (ingest/_work.py, ingest/_engine.py)
send the pickled :class:`Policy`; its JSON would not do (docs/TRAPS.md).
"""

from __future__ import annotations


def test_when_the_policy_crosses_to_a_worker_then_its_deny_list_scores_are_kept() -> None:
    """A JSON round trip marks every field as set: a deny list's score would
    change from 1.0 ("unless the steward set one") to the dumped 0.6, and a
    worker would classify differently from the driver (docs/TRAPS.md)."""
    import pickle

    from ragseal.classification import Pseudonymizer, default_policy, parse_policy
    from ragseal.classification._policy_recognizers import policy_recognizers
    from ragseal.ingest import DocumentWork
    from ragseal.store import IdHasher

    def deny_scores(policy: object) -> list[float]:
        return [float(r.deny_list_score) for r in policy_recognizers(policy)  # type: ignore[arg-type]
                if getattr(r, "deny_list", None)]

    policy = default_policy()
    work = DocumentWork(policy=policy, classifier=None, chunker=None,  # type: ignore[arg-type]
                        embedder=None, ids=IdHasher(b"i" * 32),  # type: ignore[arg-type]
                        pseudonyms=Pseudonymizer(b"p" * 32))
    crossed = pickle.loads(pickle.dumps(work.spec()))  # noqa: S301 - our own bytes
    assert deny_scores(crossed.policy) == deny_scores(policy) != []
    assert all(s == 1.0 for s in deny_scores(policy))
    # what the process pool and the engine used to send: a different classifier
    assert deny_scores(parse_policy(policy.to_json())) != deny_scores(policy)
