"""REPORT_SOURCE=auto: the beta report until Graph says it is gone, then v1.0 for good.

The wrapper implements the same port as the two sources it wraps. It keeps whether it has
switched through a small port of its own (`SwitchState`, the alert store in production) and
says so through `announce` (a Teams message in production):
- until this worker knows of a switch, it reads beta; an answer that `is_gone` says means the
  report no longer exists (not a 401, 403, 429 or 5xx: those are problems to report) makes it
  read v1.0 in the same run, and from then on for the worker's life.
- the switch is announced once: on a gone answer it reads the state, and only if no switch is
  recorded yet does it log why, announce it and record it. A failure of the v1.0 read is
  raised like any failing fetch, and nothing is recorded.
- the switch is recorded only with the announcement (`announce` claims, posts and records it,
  shared/usecases/announcing.py): should the post fail, `announce` logs why and answers False,
  the report is still returned, and the next run finds beta gone again and says it again.
- a beta answer that carries no data (an empty collection, or a total of 0) makes that run
  read v1.0 instead, with a WARNING saying why; it is no switch: the next run asks beta again.
- a checkpoint always resumes the v1.0 pass it came from.
- with a national cloud's GRAPH_ENDPOINT (`offers_beta`), it reads v1.0 from the start, saying
  why once in the log: no switch to record or announce, there was never a beta to leave.
The state is read only when beta is gone, never on a run that beta answers: a run costs no
Table request more than with REPORT_SOURCE=beta, and a new worker asks beta once (one request
answered "gone") before it reads v1.0 again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit

from shared.errors import GraphError
from shared.sources.graph_client import is_gone
from shared.sources.port import Checkpoint, FetchedReport, ReportSource

log = logging.getLogger(__name__)

# Microsoft lists getCredentialUserRegistrationCount for the global service only, and
# userRegistrationDetails for every cloud (each API page's "National cloud availability"); the
# national clouds' Graph hosts (https://learn.microsoft.com/graph/deployments): US Government
# L4, US Government L5 (DOD), China operated by 21Vianet. Any other host, the global service and
# a loopback stand-in among them, is given beta first.
NATIONAL_CLOUD_HOSTS = frozenset(
    {"graph.microsoft.us", "dod-graph.microsoft.us", "microsoftgraph.chinacloudapi.cn"}
)


def offers_beta(endpoint: str) -> bool:
    """Whether `auto` should try the beta report at GRAPH_ENDPOINT `endpoint`."""
    return (urlsplit(endpoint).hostname or "").lower() not in NATIONAL_CLOUD_HOSTS


class SwitchState(Protocol):
    """Where `auto` keeps whether it moved to the v1.0 source (one small row)."""

    def get_source_switch(self) -> str | None:
        """Why `auto` reads the v1.0 source now; None: it still reads beta."""
        ...


# Tell the admins that `auto` now reads v1.0 and record it; False if that could not be done.
Announce = Callable[[str, datetime], bool]


class AutoSource:
    def __init__(
        self,
        *,
        beta: ReportSource,
        v1: ReportSource,
        state: SwitchState,
        announce: Announce,
        clock: Callable[[], datetime],
        beta_offered: bool = True,
    ) -> None:
        self._beta = beta
        self._v1 = v1
        self._state = state
        self._announce = announce
        self._clock = clock
        self._switched = False  # this worker knows beta is gone: it reads v1.0 only
        self._beta_offered = beta_offered

    @property
    def api(self) -> str:
        return (self._v1 if self._switched or not self._beta_offered else self._beta).api

    @property
    def permission(self) -> str:
        return f"{self._beta.permission} (then {self._v1.permission})"

    def fetch(
        self, checkpoint: Checkpoint | None = None, *, deadline: datetime | None = None
    ) -> FetchedReport | Checkpoint:
        if not self._beta_offered and not self._switched:
            log.info(
                "REPORT_SOURCE=auto: GRAPH_ENDPOINT is a national cloud, where Microsoft offers "
                "no beta getCredentialUserRegistrationCount; reading v1.0 userRegistrationDetails "
                "(needs %s)",
                self._v1.permission,
            )
            self._switched = True
        if checkpoint is not None or self._switched:
            return self._v1.fetch(checkpoint, deadline=deadline)
        try:
            fetched = self._beta.fetch(deadline=deadline)
        except GraphError as exc:
            if not is_gone(exc):
                raise  # 401, 403, 429, 5xx: a problem to report, not a report that is gone
            reason = f"the beta report answered {exc}"
        else:
            if isinstance(fetched, FetchedReport) and fetched.report.total_users == 0:
                # Microsoft's word for retired reports is that they "stop returning data": an
                # empty beta answer may be that, or a passing glitch. This run reads v1.0; the
                # next asks beta again (no switch, no Teams card: one WARNING line a run).
                log.warning(
                    "REPORT_SOURCE=auto: the beta report counts no users (an empty answer, or a "
                    "total of 0); reading v1.0 userRegistrationDetails for this run instead "
                    "(needs %s)",
                    self._v1.permission,
                )
                return self._v1.fetch(deadline=deadline)
            return fetched
        if self._state.get_source_switch() is not None:
            log.info("REPORT_SOURCE=auto: %s, as recorded before; reading v1.0", reason)
            self._switched = True
            return self._v1.fetch(deadline=deadline)
        log.error(
            "REPORT_SOURCE=auto: %s. Moving to v1.0 userRegistrationDetails for good; it needs "
            "the application permission %s (infra/grant-reports-read-all.sh grants it)",
            reason,
            self._v1.permission,
        )
        result = self._v1.fetch(deadline=deadline)  # a failure is announced as a failing fetch
        # Not recorded (False): the next run tries beta again, finds it gone, and says it again.
        self._switched = self._announce(reason, self._clock())
        return result
