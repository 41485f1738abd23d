"""Rendering one message with masking and content lint, in process (target p99 <= 200 µs).

Parses three templates once (an SMS reminder in zh-CN and en, an e-mail with a subject, a
letter with a loop over ten instalments), then times ``notify.domain.render.render`` on ``--calls``
calls, each alone, cycling through them with varied variables (one in five carries a resident
ID to mask) under pack ``us``'s opt-out line. Beside it, in the same run: the same texts
built with ``str.format`` (the baseline), and the sandboxed Jinja2 render alone (what masking,
lint and the checks add is the difference).

    uv run python bench/bench_render.py [--calls 100000] [--seed 7]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from notify.domain import sandbox
from notify.domain.lint import shipped_lexicon
from notify.domain.render import Rendered, choose_locale, render
from notify.domain.templates import Template, parse_template
from shared.compliance import default_pack

LEXICON = shipped_lexicon()
US = default_pack("us")
SMS_VARIABLES = ["name", "amount_due", "dpd"]
DOCUMENTS: dict[str, dict[str, Any]] = {
    "sms": {
        "channel": "sms",
        "variables": SMS_VARIABLES,
        "locales": {
            "zh-CN": {"body": "{{ name }}，您本期应还{{ amount_due }}元，已逾期{{ dpd }}天。"},
            "en": {"body": "{{ name }}, {{ amount_due }} is {{ dpd }} days overdue."},
        },
    },
    "email": {
        "channel": "email",
        "variables": SMS_VARIABLES,
        "locales": {
            "en": {
                "subject": "Payment reminder for {{ name }}",
                "body": "Dear {{ name }},\n\nYour instalment of {{ amount_due }} is {{ dpd }} "
                "days overdue. Please pay at your earliest convenience, or call us to agree a "
                "plan that works for you.\n\nThank you.",
            },
        },
    },
    "letter": {
        "channel": "letter",
        "purpose": "legal_notice",
        "variables": [*SMS_VARIABLES, "lines"],
        "locales": {
            "zh-CN": {
                "subject": "还款通知",
                "body": "{{ name }}：\n您的借款已逾期{{ dpd }}天，应还{{ amount_due }}元。"
                "明细如下：\n"
                "{% for line in lines %}第{{ line.seq }}期 {{ line.due_on }} {{ line.amount }}元\n"
                "{% endfor %}如有疑问，请致电客服。",
            },
        },
    },
}
NAMES = ["张三", "李四", "Wang Wu", "Zhao Liu", "陈七"]


def templates() -> list[Template]:
    parsed = [parse_template(name, doc, LEXICON) for name, doc in DOCUMENTS.items()]
    assert all(isinstance(t, Template) for t in parsed), parsed
    return [t for t in parsed if isinstance(t, Template)]


def make_calls(rng: random.Random, count: int) -> list[tuple[Template, str, dict[str, object]]]:
    cases = []
    pool = templates()
    for i in range(count):
        template = pool[i % len(pool)]
        name = rng.choice(NAMES)
        if i % 5 == 0:
            name += f" {rng.randrange(10**17, 10**18)}"  # a resident ID to mask
        variables: dict[str, object] = {
            "name": name,
            "amount_due": f"{rng.randrange(100, 99_999)}.{rng.randrange(100):02d}",
            "dpd": rng.randrange(1, 90),
            "lines": [
                {"seq": s, "due_on": f"2026-{s:02d}-15", "amount": "1066.19"} for s in range(1, 11)
            ],
        }
        cases.append((template, rng.choice(["zh-CN", "en"]), variables))
    return cases


def full(template: Template, locale: str, variables: dict[str, object]) -> object:
    line = US.opt_out_line(template.channel, choose_locale(template, locale))
    result = render(
        template, locale=locale, variables=variables, lexicon=LEXICON, opt_out_line=line
    )
    assert isinstance(result, Rendered), result
    return result


def jinja_only(template: Template, locale: str, variables: dict[str, object]) -> object:
    text = template.locales[choose_locale(template, locale)]
    return sandbox.render_text(sandbox.compiled(text.body), variables)


def baseline(template: Template, locale: str, variables: dict[str, object]) -> object:
    text = template.locales[choose_locale(template, locale)].body
    return text.replace("{{ ", "{").replace(" }}", "}").split("{%")[0].format(**variables)


def timed(
    fn: Callable[[Template, str, dict[str, object]], object],
    cases: list[tuple[Template, str, dict[str, object]]],
) -> tuple[float, float]:
    for case in cases[:1000]:  # warm up (and fill the compiled-template cache)
        fn(*case)
    clock = time.perf_counter_ns
    timings = []
    for case in cases:
        start = clock()
        fn(*case)
        timings.append(clock() - start)
    cuts = statistics.quantiles(timings, n=100)
    return cuts[49] / 1000, cuts[98] / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cases = make_calls(random.Random(args.seed), args.calls)
    print(f"{args.calls:,} renders over {len(DOCUMENTS)} templates, pack us, cpus {os.cpu_count()}")
    p99 = 0.0
    for label, fn in (
        ("baseline str.format", baseline),
        ("sandboxed Jinja2 render only", jinja_only),
        ("render + mask + lint + opt-out", full),
    ):
        p50, p99 = timed(fn, cases)
        print(f"  {label:32s} p50 {p50:7.1f} µs   p99 {p99:7.1f} µs")
    verdict = "met" if p99 <= 200 else "NOT MET"
    print(f"target: render + lint p99 <= 200 µs: {verdict}")


if __name__ == "__main__":
    main()
