#!/usr/bin/env python3
"""Compare the findings of `strata lint --format json` and `squawk --reporter json` on the same
files (bench/lint.sh): counts per rule, grouped into families, as markdown.

Usage: lint_compare.py STRATA_JSON SQUAWK_JSON [CATEGORIES]  (CATEGORIES: "rule-id category" lines)
"""

import collections
import json
import sys

# Rule family of each strata rule id (by its category) and of each squawk rule name.
SQUAWK_FAMILY = {
    "prefer-robust-stmts": "idempotency",
    "renaming-column": "compatibility",
    "renaming-table": "compatibility",
    "changing-column-type": "compatibility",
    "ban-drop-column": "compatibility",
    "ban-drop-table": "compatibility",
    "adding-required-field": "compatibility",
    "adding-not-nullable-field": "compatibility",
    "ban-drop-not-null": "compatibility",
    "transaction-nesting": "transaction",
    "ban-concurrent-index-creation-in-transaction": "transaction",
    "require-concurrent-index-creation": "locking",
    "require-concurrent-index-deletion": "locking",
    "constraint-missing-not-valid": "locking",
    "adding-foreign-key-constraint": "locking",
    "adding-field-with-default": "locking",
    "disallowed-unique-constraint": "locking",
    "adding-serial-primary-key-field": "locking",
    "require-lock-timeout": "locking",
    "require-statement-timeout": "locking",
    "prefer-bigint-over-int": "types",
    "prefer-bigint-over-smallint": "types",
    "prefer-big-int": "types",
    "prefer-identity": "types",
    "prefer-timestamp-tz": "types",
    "prefer-timestamptz": "types",
    "prefer-text-field": "types",
    "ban-char-field": "types",
    "syntax-error": "parse",
}


def main() -> int:
    strata = json.load(open(sys.argv[1]))
    squawk = json.load(open(sys.argv[2]))
    s_rules = collections.Counter(f["rule"] for f in strata["result"]["findings"])
    q_rules = collections.Counter(f["rule_name"] for f in squawk)
    categories = {}
    for line in open(sys.argv[3]) if len(sys.argv) > 3 else []:
        rule_id, category = line.split()
        categories[rule_id] = category
    s_fam = collections.Counter()
    s_by_fam = collections.defaultdict(list)
    for rule, n in s_rules.items():
        fam = categories.get(rule, "other")
        s_fam[fam] += n
        s_by_fam[fam].append(f"`{rule}` {n}")
    q_fam = collections.Counter()
    q_by_fam = collections.defaultdict(list)
    for rule, n in q_rules.items():
        fam = SQUAWK_FAMILY.get(rule, "other")
        q_fam[fam] += n
        q_by_fam[fam].append(f"`{rule}` {n}")
    print("| Family | strata | squawk | strata rules | squawk rules |")
    print("|---|---:|---:|---|---|")
    for fam in sorted(set(s_fam) | set(q_fam)):
        print(
            f"| {fam} | {s_fam[fam]} | {q_fam[fam]} | "
            f"{', '.join(sorted(s_by_fam[fam])) or '–'} | {', '.join(sorted(q_by_fam[fam])) or '–'} |"
        )
    print(f"| **total** | {sum(s_fam.values())} | {sum(q_fam.values())} | | |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
