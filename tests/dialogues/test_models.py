"""The dialogue session row: what it reads of its own state."""

from dialogues import protocol


def test_the_protocol_state_is_read_once_and_again_whenever_the_stored_state_changes(dialogue):
    first = dialogue.protocol_state
    assert dialogue.protocol_state is first  # parsed once, however often a render reads it
    dialogue.state = protocol.apply(first, "b", "accept_now").to_dict()
    assert dialogue.protocol_state.step != first.step  # a new state, assigned
    dialogue.state["closed"].append("a")  # changed in place, deep inside
    assert dialogue.protocol_state.closed == {"a"}
    dialogue.refresh_from_db()
    assert dialogue.protocol_state == first  # read back as saved
