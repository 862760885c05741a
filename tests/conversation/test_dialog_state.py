"""The dialog state's one serialised form, and what channels may ask of it."""

from __future__ import annotations

from handlers.state import DialogState, Pending, Step, awaiting_contact, verifying


def test_a_state_survives_its_stored_form() -> None:
    state = DialogState(
        flow="rectification",
        step=Step.DETAILS,
        asking="value",
        slots={"field": "email"},
        pending=[Pending("objection", {"purposes": ["tracking"]})],
        contact={"kind": "email", "value": "ben@example.com"},
        language_locked=True,
        greeted=True,
        offered={"confirm": "Yes"},
        last_reference="PR-ABC234",
    )
    assert DialogState.from_json(state.to_json()) == state


def test_defaults_are_left_out_of_the_stored_form() -> None:
    assert DialogState().to_json() == {}
    assert DialogState(greeted=True).to_json() == {"greeted": True}


def test_malformed_stored_state_falls_back_to_defaults() -> None:
    raw = {"step": "no-such-step", "slots": "x", "pending": [1, {"kind": 2}], "offered": []}
    assert DialogState.from_json(raw) == DialogState()


def test_ending_a_dialog_keeps_what_outlives_it() -> None:
    state = DialogState(flow="access", step=Step.CODE, greeted=True, language_locked=True)
    state.end()
    assert (state.flow, state.step, state.greeted, state.language_locked) == (
        None,
        None,
        True,
        True,
    )


def test_channels_ask_about_verification_without_reading_keys() -> None:
    identify = DialogState(flow="access", step=Step.IDENTIFY).to_json()
    code = DialogState(flow="access", step=Step.CODE).to_json()
    assert awaiting_contact(identify) and not awaiting_contact(code)
    assert verifying(identify) and verifying(code) and not verifying({})
