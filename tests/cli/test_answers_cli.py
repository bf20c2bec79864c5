"""`intra-bot ask --explain`, `intra-bot unanswered` and `python -m tests.eval`, run for real."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

from bot.answers.question_log import AskedQuestion, QuestionLog
from bot.store import Store
from tests.eval.runner import HELDOUT_FLOOR

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, module: str = "bot") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


def test_explain_shows_terms_ranked_units_and_the_decision() -> None:
    result = run("ask", "--explain", "combien de temps dure l'oral ?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "oral → oral" in out
    assert "1.  " in out and "certification/oral" in out
    assert "mots trouvés :" in out
    assert "Décision : réponse (sujet : certification, unité : certification/oral)" in out


def test_explain_flags_a_typo() -> None:
    out = run("ask", "--explain", "certifcation").stdout
    assert "absent du contenu : faute de frappe ?" in out
    assert "certifcation≈" in out


def test_unanswered_lists_grouped_questions_since_a_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/bot.db"
    log = QuestionLog(Store.open(url))
    now = dt.datetime.now(dt.UTC)
    log.record_many(
        [
            AskedQuestion(now - dt.timedelta(days=days), False, "", "role", 0.5, text)
            for days, text in [(40, "vieux sujet"), (2, "passeport ?"), (1, "Passeport")]
        ]
    )
    log.store.close()
    config = tmp_path / "config.toml"
    config.write_text(f'[store]\nurl = "{url}"\n', encoding="utf-8")
    result = run("unanswered", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "2 questions sans réponse sûre" in result.stdout
    assert "   2  " in result.stdout and "Passeport" in result.stdout
    assert "vieux sujet" not in result.stdout
    since = (now - dt.timedelta(days=60)).date().isoformat()
    older = run("unanswered", "--config", str(config), "--since", since)
    assert "vieux sujet" in older.stdout
    bad = run("unanswered", "--config", str(config), "--since", "hier")
    assert bad.returncode == 2 and "'hier' is not a date" in bad.stderr


def test_the_evaluation_command_prints_the_score() -> None:
    result = run(module="tests.eval")
    for line in (
        "questions.yaml    score: ",
        "blind-dev-3.yaml  score: ",
        "blind-dev-4.yaml  score: ",
        "development       score: ",
    ):
        assert line in result.stdout, line
    floor = f"(floor {HELDOUT_FLOOR:.0%})"
    assert "held-out          score: " in result.stdout and floor in result.stdout
    assert "gap: " in result.stdout and "issue 20's target: held-out 90%" in result.stdout
    assert result.returncode == 0, result.stdout[-2000:]
