"""Spoofing verdicts from Authentication-Results: only the trusted server's headers count."""

from __future__ import annotations

import pytest

from mailroom.rules.authresults import (
    authentication_failure,
    authentication_pass,
    trusted_results,
)

TRUSTED = "mx.126.com"


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        # DMARC decides when present
        (["mx.126.com; dkim=fail header.d=example.cn; spf=fail smtp.mailfrom=x@example.cn;"
          " dmarc=fail (p=reject) header.from=example.cn"], "dmarc=fail for example.cn"),
        (["mx.126.com; dkim=fail header.d=example.cn; dmarc=pass header.from=example.cn"],
         None),
        # no DMARC: one failing mechanism is forgiven when the other passed
        (["mx.126.com; dkim=fail (bad signature) header.d=example.cn;"
          " spf=pass smtp.mailfrom=zfdd@example.cn"], None),
        (["mx.126.com; dkim=pass header.d=example.cn; spf=fail smtp.mailfrom=zfdd@example.cn"],
         None),
        (["mx.126.com; dkim=fail header.d=example.cn; spf=none smtp.mailfrom=zfdd@example.cn"],
         "dkim=fail for example.cn"),
        (["mx.126.com; spf=fail smtp.mailfrom=zfdd@example.cn"], "spf=fail for example.cn"),
        # a failure about another domain is not the From domain's
        (["mx.126.com; dkim=fail header.d=mailing-list.org; spf=pass smtp.mailfrom=a@list.org"],
         None),
        # soft results are not failures
        (["mx.126.com; spf=softfail smtp.mailfrom=zfdd@example.cn; dkim=none"], None),
        (["mx.126.com; dkim=temperror header.d=example.cn; spf=permerror"], None),
        # header.i stands in for header.d; version and comments are allowed
        (["mx.126.com 1; dkim=fail (sig) header.i=@example.cn"], "dkim=fail for example.cn"),
        # folded over lines as servers write it
        (["mx.126.com;\r\n\tdkim=fail header.d=example.cn;\r\n\tspf=fail"
          " smtp.mailfrom=example.cn"], "dkim=fail for example.cn"),
        # the trusted id is compared without regard to case
        (["MX.126.COM; dmarc=fail header.from=example.cn"], "dmarc=fail for example.cn"),
    ],
)
def test_trusted_server_results(headers: list[str], reason: str | None) -> None:
    found = authentication_failure(headers, TRUSTED, "example.cn")
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason)


def test_other_servers_are_ignored() -> None:
    # RFC 8601 §5: anyone can write this header; a forger would claim a pass, a prankster a
    # fail. Neither may decide anything.
    forged = ["mx.evil.example; dmarc=fail header.from=example.cn",
              "mx.126.com.evil.example; dkim=fail header.d=example.cn"]
    assert authentication_failure(forged, TRUSTED, "example.cn") is None
    assert trusted_results(forged, TRUSTED) == []


def test_a_forged_pass_does_not_hide_the_trusted_fail() -> None:
    headers = ["mx.evil.example; dmarc=pass header.from=example.cn",
               "mx.126.com; dmarc=fail header.from=example.cn"]
    assert authentication_failure(headers, TRUSTED, "example.cn") is not None


def test_off_without_a_trusted_id() -> None:
    headers = ["mx.126.com; dmarc=fail header.from=example.cn"]
    assert authentication_failure(headers, "", "example.cn") is None


@pytest.mark.parametrize("garbage", ["", ";;;", "mx.126.com; dkim", "(only a comment)",
                                     "mx.126.com; =fail"])
def test_unparseable_headers_are_skipped(garbage: str) -> None:
    assert authentication_failure([garbage], TRUSTED, "example.cn") is None


def test_from_domain_given_as_address() -> None:
    headers = ["mx.126.com; dmarc=fail header.from=example.cn"]
    assert authentication_failure(headers, TRUSTED, "zfdd@Example.CN") is not None


@pytest.mark.parametrize(
    ("headers", "passes"),
    [
        (["mx.126.com; dmarc=pass header.from=example.cn"], "dmarc"),
        (["mx.126.com; dmarc=pass"], "dmarc"),  # DMARC is about the From domain by definition
        (["mx.126.com; dkim=pass header.d=example.cn"], "dkim"),
        (["mx.126.com; dkim=pass header.i=@example.cn"], "dkim"),
        (["mx.126.com; spf=pass smtp.mailfrom=office@example.cn"], "spf"),
        (["mx.126.com; dkim=fail header.d=example.cn; spf=pass smtp.mailfrom=o@example.cn"],
         "spf"),
        # not aligned: another domain signed, or the envelope was another domain's
        (["mx.126.com; dkim=pass header.d=evil.example"], None),
        (["mx.126.com; spf=pass smtp.mailfrom=forger@evil.example"], None),
        (["mx.126.com; dkim=pass header.d=mail.example.cn"], None),
        # a pass that names no domain proves nothing about this one
        (["mx.126.com; dkim=pass; spf=pass"], None),
        # a failure refuses, whatever passed beside it
        (["mx.126.com; dkim=pass header.d=example.cn; dmarc=fail header.from=example.cn"],
         None),
        (["mx.126.com; spf=softfail smtp.mailfrom=o@example.cn; dkim=none"], None),
        ([], None),
        # only the trusted server's word counts
        (["mx.evil.example; dmarc=pass header.from=example.cn"], None),
    ],
)
def test_what_vouches_for_the_from_domain(headers: list[str], passes: str | None) -> None:
    found = authentication_pass(headers, TRUSTED, "example.cn")
    if passes is None:
        assert found is None
    else:
        assert found is not None and found.startswith(f"{passes}=pass for example.cn")


def test_no_trusted_server_no_pass() -> None:
    assert authentication_pass(["mx.126.com; dmarc=pass header.from=example.cn"], "",
                               "example.cn") is None
