"""aiogram's Telegram types are built when first used, not at import (`lazy_types`).

A fresh process, so that the import measured is the first one: nothing is built by
importing the channel, and then every type and every Bot API method aiogram has builds
from the names it was given (a lazy build that failed would otherwise surface only when
a customer's update first used that type).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CODE = """
import json
from pydantic import BaseModel
import bot.channels.telegram.webhook  # the web process's first import of aiogram
import bot.channels.telegram.notify   # the worker's
import aiogram.methods as methods
import aiogram.types as types

def models(modules=(types, methods)):
    for module in modules:
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type) and issubclass(value, BaseModel):
                yield value

built_at_import = sorted(m.__name__ for m in models() if m.__pydantic_complete__)
types_built = sum(1 for m in models((types,)) if m.__pydantic_complete__)

def build(model):  # from inside a call stack, as pydantic's lazy build runs in a turn
    return model.__pydantic_validator__.validate_python

failed = []
for model in models():
    try:
        build(model)
    except Exception as exc:
        failed.append(f"{model.__name__}: {type(exc).__name__}")

update = types.Update.model_validate(
    {"update_id": 7, "message": {"message_id": 1, "date": 1700000000, "text": "hej",
     "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False,
     "first_name": "Anna"}, "contact": {"phone_number": "+4512345678", "first_name": "Anna",
     "user_id": 5}}}
)
print(json.dumps({
    "models": sum(1 for _ in models()),
    "built_at_import": built_at_import,
    "types": sum(1 for _ in models((types,))),
    "types_built_at_import": types_built,
    "failed": failed,
    "contact": update.message.contact.phone_number,
    "chat": type(update.message.chat).__name__,
}))
"""


def test_types_are_built_on_first_use_and_every_one_builds() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["models"] > 500  # aiogram's types and methods, all checked
    # Methods without a Telegram type in them build at once (they are small); the types
    # and the methods that carry them do not.
    assert {"Update", "Message", "Chat", "SendMessage"} & set(result["built_at_import"]) == set()
    assert result["types"] > 400 and result["types_built_at_import"] <= 5
    assert result["failed"] == []
    assert result["contact"] == "+4512345678" and result["chat"] == "Chat"
