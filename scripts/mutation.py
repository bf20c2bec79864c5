"""The mutation floor: mutmut on the critical functions, against the fast suites (unit, services, contract).

Run by `scripts/mutation` (see there for the options). Prints the score of each module,
lists every surviving mutant with its file:line and its change, and exits 1 when a
module kills fewer than FLOOR of its mutants.

A full run takes minutes, so a passing run writes a stamp of what it tested (the critical
modules, the fast tests, the content they read and this script); while nothing of that
changed, the next run says so and stops. The stamp is committed with the code.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STAMP = ROOT / "scripts" / "mutation.stamp"
FLOOR = 0.85

# module -> the functions that hold its critical rule ("Class.method" or "function").
# Texts, logs and wiring around them are left out: a mutant there says nothing about safety.
CRITICAL: dict[str, list[str]] = {
    # request and signature verification
    "bot/adapters/mattermost/signing.py": ["derive_secret", "sign", "verify"],
    "bot/adapters/mattermost/http.py": ["token_is_valid", "parse_form", "CommandEndpoint.handle"],
    "bot/adapters/mattermost/actions.py": [
        "InvitationActions.on_action",
        "InvitationActions.on_dialog",
    ],
    # untrusted callback bodies, read before the signature is checked
    "bot/adapters/mattermost/callbacks.py": ["action_call", "dialog_submission", "submitted_text"],
    # who may invite the bot on Matrix (allowed servers), and what is addressed to it
    "bot/adapters/matrix/addressing.py": ["server_of", "addressed"],
    # the decision state machine
    "bot/invitations/records.py": [
        "InvitationRecords.create",
        "InvitationRecords.begin",
        "InvitationRecords.finish_accept",
        "InvitationRecords.abort_accept",
        "InvitationRecords._leave_accepting",
    ],
    "bot/invitations/service.py": [
        "InvitationService.decide",
        "InvitationService.is_referent",
        "InvitationService.referent_ids",
        "InvitationService.decline_dialog",
        "InvitationService.pending",
    ],
    # who a referent is: the pinned user id, held when her username changed hands
    "bot/invitations/referents.py": [
        "ReferentAccounts.trusted_ids",
        "ReferentAccounts._compare",
        "ReferentAccounts._pin",
    ],
    "bot/invitations/effects.py": ["InvitationEffects._trusted_referent"],
    # what referents see of a request: every user-controlled field defused
    "bot/invitations/texts.py": ["decline_dialog", "at_username", "notice_text", "outcome"],
    # referents only
    "bot/answers/stats.py": ["StatsService.reply"],
    # a command may not hide a topic, nor be one the parser does not know
    "bot/answers/conversation.py": [
        "Conversation.register",
        "Conversation.serve_topic",
        "Conversation.answer_post",
        "Conversation.answer_command",
        "Conversation._verdict",
    ],
    # each person's fair share: one flood never holds the others' answers
    "bot/answers/budget.py": [
        "QuestionBudget.take",
        "QuestionBudget._tokens",
        "QuestionBudget._make_room",
        "slow_down",
    ],
    # the reminder claims
    "bot/club/claims.py": [
        "ReminderClaims.claim_reminder",
        "ReminderClaims.extend_reminder_lease",
        "ReminderClaims.mark_reminder_posted",
        "ReminderClaims._update_claim",
        "ReminderClaims.mark_reminder_skipped",
        "ReminderClaims._insert_reminder",
    ],
    # the answer claims: a question held until its reply exists, a dead holder's taken over once
    "bot/answer_claims.py": [
        "AnswerClaims.claim_answer",
        "AnswerClaims.answer_done",
        "AnswerClaims.unfinished_answers",
    ],
    # defusing
    "bot/text.py": ["defuse", "inline"],
    # the agenda rule, and when a reminder is due
    "bot/club/agenda.py": ["rule_date", "from_rule", "_apply", "_at", "upcoming"],
    "bot/club/reminders.py": ["reminder_time", "due"],
    # the answer parser
    "bot/answers/answer.py": [
        "answer",
        "respond",
        "resolve",
        "_split",
        "_topic_named_in",
    ],
    "bot/answers/commands.py": ["command_of"],
}
# What the result depends on besides the critical modules: a change here re-runs it.
INPUTS = [
    "tests/unit",
    "tests/services",
    "tests/contract",
    "tests/conftest.py",
    "tests/fakes.py",
    "content",
    "scripts/mutation",
]


def mutant_pattern(module: str, function: str) -> str:
    """mutmut's name for the mutants of `function`: bot.club.claims.xǁReminderClaimsǁclaim_reminder__mutmut_7."""
    dotted = module.removesuffix(".py").replace("/", ".")
    klass, _, name = function.rpartition(".")
    mangled = f"xǁ{klass}ǁ{name}" if klass else f"x_{name}"
    return f"{dotted}.{mangled}__mutmut_*"


def fingerprint() -> str:
    digest = hashlib.sha256()
    files = [ROOT / module for module in CRITICAL]
    for entry in INPUTS:
        path = ROOT / entry
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and _tracked(p)))
        else:
            files.extend(sorted(path.parent.glob(path.name + "*")))
    files.append(ROOT / "pyproject.toml")
    for path in files:
        if path == STAMP:
            continue
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _tracked(path: Path) -> bool:
    return "__pycache__" not in path.parts and path.suffix not in (".pyc",)


@dataclass
class Mutant:
    name: str
    module: str
    status: str


def missing_functions() -> list[str]:
    """The CRITICAL entries that no longer name a function (renamed, moved, deleted)."""
    missing = []
    for module, functions in CRITICAL.items():
        tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
        defined = {node.name for node in tree.body if isinstance(node, _FUNCTIONS)} | {
            f"{node.name}.{item.name}"
            for node in tree.body
            if isinstance(node, ast.ClassDef)
            for item in node.body
            if isinstance(item, _FUNCTIONS)
        }
        missing += [f"{module}: {function}" for function in functions if function not in defined]
    return missing


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def run_mutmut(children: int) -> float:
    shutil.rmtree(ROOT / "mutants", ignore_errors=True)
    patterns = [mutant_pattern(m, f) for m, functions in CRITICAL.items() for f in functions]
    mutmut = Path(sys.executable).with_name("mutmut")
    started = time.monotonic()
    # mutmut draws a progress line many times a second: keep it out of CI logs.
    done = subprocess.run(
        [str(mutmut), "run", "--max-children", str(children), *patterns],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HYPOTHESIS_PROFILE": "mutation"},
    )
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"mutation: mutmut failed (exit {done.returncode}), see above")
    return time.monotonic() - started


def results() -> list[Mutant]:
    patterns = {
        m: [re.compile(re.escape(mutant_pattern(m, f)).replace(r"\*", r"\d+")) for f in fs]
        for m, fs in CRITICAL.items()
    }
    found = []
    for module, regexes in patterns.items():
        meta = json.loads((ROOT / "mutants" / (module + ".meta")).read_text(encoding="utf-8"))
        for name, code in meta["exit_code_by_key"].items():
            if any(regex.fullmatch(name) for regex in regexes):
                found.append(Mutant(name, module, _status(code)))
    return found


def _status(code: int | None) -> str:
    if code in (1, 3, 37):  # a test failed, pytest broke, or the type check refused it
        return "killed"
    if code in (36, 24, -24, 152, 255):  # an infinite loop is noticed too
        return "timeout"
    if code == 0:
        return "survived"
    if code in (5, 33):
        return "no tests"
    return "not checked" if code is None else f"suspicious ({code})"


def where(mutant: Mutant) -> tuple[str, str]:
    """file:line of the mutated line in the original module, and the change.

    mutmut keeps, in mutants/<module>, an unchanged copy of the function and each mutant,
    with their line spans: the first line where they differ is the mutation.
    """
    mutated = ROOT / "mutants" / mutant.module
    spans = json.loads(mutated.with_name(mutated.name + ".spans").read_text(encoding="utf-8"))
    lines = mutated.read_text(encoding="utf-8").splitlines()
    generated = mutant.name.rsplit(".", 1)[1]
    original_name = generated.rsplit("__mutmut_", 1)[0] + "__mutmut_orig"

    def body(name: str) -> list[str]:
        first, last = spans["spans"][name]
        function = lines[first - 1 : last]
        start = next(i for i, line in enumerate(function) if f"def {name}(" in line)
        # From the `def` line (a default value can be mutated there), without the name.
        return [function[start].replace(name, ""), *function[start + 1 :]]

    before, after = body(original_name), body(generated)
    changed = next(
        (i for i, (a, b) in enumerate(zip(before, after, strict=False)) if a != b),
        min(len(before), len(after)),
    )
    old = before[changed].strip() if changed < len(before) else ""
    new = after[changed].strip() if changed < len(after) else "(removed)"
    if changed == 0:  # the `def` line: show it with its name
        function = generated.rsplit("__mutmut_", 1)[0].rsplit("ǁ", 1)[-1].removeprefix("x_")
        old, new = (
            old.replace("def (", f"def {function}("),
            new.replace("def (", f"def {function}("),
        )
    return f"{mutant.module}:{_definition_line(mutant) + changed}", f"{old}  ->  {new}"


def _definition_line(mutant: Mutant) -> int:
    """The `def` line of the mutated function in the original module."""
    mangled = mutant.name.rsplit(".", 1)[1].rsplit("__mutmut_", 1)[0]
    klass, _, function = mangled.removeprefix("xǁ").partition("ǁ")
    if not mangled.startswith("xǁ"):
        klass, function = "", mangled.removeprefix("x_")
    tree = ast.parse((ROOT / mutant.module).read_text(encoding="utf-8"))
    scopes = [tree.body]
    if klass:
        scopes = [n.body for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == klass]
    for scope in scopes:
        for item in scope:
            if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef) and item.name == function:
                return item.lineno
    return 0


def report(mutants: list[Mutant]) -> tuple[bool, list[str]]:
    """Print the score of each module and the survivors; (floor held, the score table)."""
    by_module: dict[str, list[Mutant]] = defaultdict(list)
    for mutant in mutants:
        by_module[mutant.module].append(mutant)
    passing = True
    table = [f"{'module':32} {'killed':>7} {'total':>6} {'score':>7}"]
    for module in CRITICAL:
        group = by_module[module]
        killed = sum(m.status in ("killed", "timeout") for m in group)
        score = killed / len(group) if group else 1.0
        flag = "" if score >= FLOOR else f"  < floor {FLOOR:.0%}"
        passing &= score >= FLOOR
        table.append(f"{module:32} {killed:7d} {len(group):6d} {score:7.1%}{flag}")
    total = sum(m.status in ("killed", "timeout") for m in mutants)
    share = total / max(1, len(mutants))
    table.append(f"{'all critical code':32} {total:7d} {len(mutants):6d} {share:7.1%}")
    print("\n".join(table))
    survivors = [m for m in mutants if m.status not in ("killed", "timeout")]
    if survivors:
        print(f"\n{len(survivors)} mutants not killed (show one: .venv/bin/mutmut show NAME):")
        for mutant in survivors:
            location, change = where(mutant)
            print(f"  {location}  {mutant.status}  {change}\n      {mutant.name}")
    return passing, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="run even if nothing changed")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report", action="store_true", help="only report the last run")
    args = parser.parse_args()
    missing = missing_functions()
    if missing:
        print("mutation: CRITICAL in scripts/mutation.py names functions that do not exist:")
        print("\n".join(f"  {entry}" for entry in missing))
        print("mutation: list the functions that now hold those rules, then run again")
        return 2
    current = fingerprint()
    if args.report:
        return 0 if report(results())[0] else 1
    if not args.force and STAMP.exists() and STAMP.read_text().split()[:1] == [current]:
        print(
            f"mutation: critical modules and fast tests unchanged since the last pass ({STAMP.name}); skipped"
        )
        return 0
    seconds = run_mutmut(args.children)
    passing, table = report(results())
    print(f"\nmutation: {seconds:.0f} s with {args.children} workers")
    if not passing:
        print(
            f"mutation: below the floor of {FLOOR:.0%} killed: add tests that kill the survivors above"
        )
        return 1
    # The fingerprint first (what the next run compares), then the scores, for the reader.
    STAMP.write_text("\n".join([current, *table, ""]), encoding="utf-8")
    print(f"mutation: floor held; {STAMP.relative_to(ROOT)} updated (commit it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
