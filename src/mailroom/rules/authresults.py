"""Did the receiving server say the From domain failed DKIM, SPF or DMARC? (issue 4, spoofing)

Only Authentication-Results added by our own, trusted server count: any other may have
been written by the sender (RFC 8601 §5), so headers whose authserv-id is not
`[imap] trusted_authserv_id` are ignored. The header is parsed by `authres` (the RFC 8601
parser of dkimpy's author, also used by authheaders).

The verdict follows DMARC's logic, so forwarding that breaks one mechanism does not cost
a unit its credit:
- a DMARC result for the From domain decides: `fail` is a failure, anything else is not;
- without one, DKIM `fail` for the From domain, or SPF `fail` for it, is a failure unless
  the other mechanism passed for the From domain.
`softfail`, `neutral`, `none`, `temperror` and `permerror` are not failures: they say the
check could not be made, not that the mail is forged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import authres


@dataclass(frozen=True)
class Result:
    method: str  # dkim | spf | dmarc
    result: str  # pass | fail | ...
    domain: str  # the domain the result is about, lower case; "" when not given


def _domain(value: str) -> str:
    return value.rsplit("@", 1)[-1].strip().strip(".").lower()


def _result_domain(result: object) -> str:
    wanted = {"dkim": ("header", "d"), "spf": ("smtp", "mailfrom"), "dmarc": ("header", "from")}
    place = wanted.get(getattr(result, "method", "").lower())
    for prop in getattr(result, "properties", ()):
        if place and (prop.type.lower(), prop.name.lower()) == place:
            return _domain(str(prop.value))
    if getattr(result, "method", "").lower() == "dkim":  # header.i=@domain when no header.d
        for prop in getattr(result, "properties", ()):
            if (prop.type.lower(), prop.name.lower()) == ("header", "i"):
                return _domain(str(prop.value))
    return ""


def trusted_results(values: Iterable[str], trusted_authserv_id: str) -> list[Result]:
    """The DKIM/SPF/DMARC results in headers written by the trusted server. An unparseable
    header is skipped: it cannot be shown to be ours."""
    found: list[Result] = []
    for value in values:
        try:
            header = authres.AuthenticationResultsHeader.parse_value(" ".join(value.split()))
        except authres.AuthResError:
            continue
        if str(header.authserv_id).lower() != trusted_authserv_id.lower():
            continue
        for result in header.results:
            method = str(result.method).lower()
            if method in ("dkim", "spf", "dmarc"):
                found.append(Result(method, str(result.result).lower(), _result_domain(result)))
    return found


def _about(results: Sequence[Result], method: str, from_domain: str) -> list[Result]:
    # a result that names no domain is taken to be about the From domain: our own server
    # wrote it for this very mail
    return [r for r in results if r.method == method and r.domain in ("", from_domain)]


def authentication_failure(
    values: Sequence[str], trusted_authserv_id: str, from_domain: str
) -> str | None:
    """A short reason when the trusted server reports the From domain failing, else None."""
    if not trusted_authserv_id or not from_domain:
        return None
    results = trusted_results(values, trusted_authserv_id)
    domain = _domain(from_domain)
    dmarc = _about(results, "dmarc", domain)
    if dmarc:
        failed = any(r.result == "fail" for r in dmarc)
        return f"dmarc=fail for {domain} ({trusted_authserv_id})" if failed else None
    passed = {r.method for m in ("dkim", "spf") for r in _about(results, m, domain)
              if r.result == "pass"}
    for method, other in (("dkim", "spf"), ("spf", "dkim")):
        failed = any(r.result == "fail" for r in _about(results, method, domain))
        if failed and other not in passed and method not in passed:
            return f"{method}=fail for {domain} ({trusted_authserv_id})"
    return None


def authentication_pass(
    values: Sequence[str], trusted_authserv_id: str, from_domain: str
) -> str | None:
    """Why the trusted server vouches for the From domain, or None when it does not.

    Stricter than the absence of a failure, for what may change scores without a
    confirmation (SPEC "Office commands by mail"): nothing without a trusted authserv-id;
    any reported failure for the domain (authentication_failure) refuses; then DMARC `pass`
    for the From domain, or DKIM `pass` with `header.d` (or `header.i`) naming exactly the
    From domain, or SPF `pass` with `smtp.mailfrom` in exactly the From domain (aligned,
    strictly). A DKIM or SPF result that names no domain proves nothing about this one."""
    if not trusted_authserv_id or not from_domain:
        return None
    if authentication_failure(values, trusted_authserv_id, from_domain) is not None:
        return None
    domain = _domain(from_domain)
    results = trusted_results(values, trusted_authserv_id)
    for method in ("dmarc", "dkim", "spf"):
        about = _about(results, method, domain) if method == "dmarc" else [
            r for r in results if r.method == method and r.domain == domain]
        if any(r.result == "pass" for r in about):
            return f"{method}=pass for {domain} ({trusted_authserv_id})"
    return None
