"""bench/walk.py places each call of a traced move on the layers pyproject.toml declares."""

from bench import walk


def test_the_layers_are_read_from_the_import_contracts():
    contracts = walk.layers()
    floors, dialogues = contracts[0], contracts[1]
    assert floors[0] == ["imago_site"] and floors[-1] == ["live"]
    assert ["dialogues.views", "dialogues.consumers", "dialogues.tasks"] in dialogues
    assert dialogues[-1] == ["dialogues.language"]


def test_a_call_up_a_layer_is_told_from_a_call_down():
    contracts = walk.layers()
    assert walk.climbs("live.prepared", "dialogues.services", contracts)
    assert walk.climbs("dialogues.models", "dialogues.selectors", contracts)
    assert not walk.climbs("dialogues.services", "dialogues.protocol", contracts)
    assert not walk.climbs("dialogues.views", "live", contracts)
    # Siblings of one layer, and modules no contract places, are never a climb.
    assert not walk.climbs("dialogues.push", "dialogues.calls", contracts)
    assert not walk.climbs("bench.echo", "dialogues.views", contracts)


def test_a_file_is_named_as_its_module():
    assert walk.module_of("dialogues/services.py") == "dialogues.services"
    assert walk.module_of("live/__init__.py") == "live"
