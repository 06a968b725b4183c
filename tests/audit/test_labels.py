"""Every audit action and record kind the code writes has words on the auditor's page (found by reading the source:
a new ``audit.record(...)`` call without a label fails here), and the page shows the words, not the codes."""

import ast
from pathlib import Path

from travesia.audit.labels import ACTION_LABELS, RECORD_LABELS
from travesia.screening.schemas import REVIEW_ACTION_LABELS

PACKAGE = Path(__file__).resolve().parents[2] / "travesia"
# Actions written with an f-string, expanded by the values their placeholder takes.
TEMPLATED = {
    "alert.{data.action}": [f"alert.{a}" for a in REVIEW_ACTION_LABELS],
    "identity.{kind}": ["identity.attach", "identity.merge", "identity.split", "identity.undo"],
}


def _audit_calls():
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
                if name == "record" and len(node.args) >= 3:
                    yield path, node


def written_actions() -> set[str]:
    found = set()
    for _path, call in _audit_calls():
        action = call.args[2]
        if isinstance(action, ast.Constant) and isinstance(action.value, str):
            found.add(action.value)
        elif isinstance(action, ast.JoinedStr):
            found.update(TEMPLATED[ast.unparse(action)[2:-1]])
    return found


def written_record_types() -> set[str]:
    return {
        kw.value.value
        for _path, call in _audit_calls()
        for kw in call.keywords
        if kw.arg == "record_type" and isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str)
    }


def test_every_action_written_has_words():
    actions = written_actions()
    assert len(actions) > 90 and "auth.login" in actions
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted(set(ACTION_LABELS) - actions) == []  # no label for an action nothing writes


def test_every_record_kind_written_has_words():
    assert sorted(written_record_types() - set(RECORD_LABELS)) == []
