"""Config arguments: tokens in any order, each optional; unknown tokens, two tokens of one group
and databases a config does not take are errors that name every group's choices."""

import importlib
import itertools

import pytest
import tensorflow_datasets as tfds

from mejax import config_args

GROUPS = {
    "database": config_args.databases("synth", "megc2018", "megc2019", "casme2"),
    "input": config_args.choice(("flow", "apex"), default="flow"),
    "protocol": config_args.choice(("loso", "hde", "cde"), default=None),
    "tim": config_args.flag("tim"),
}
CHOICES = ("synth", "megc2018", "megc2019", "casme2", "flow", "apex", "loso", "hde", "cde", "tim")


def test_defaults():
    expected = {"database": "synth", "input": "flow", "protocol": None, "tim": False}
    assert config_args.parse(None, GROUPS) == expected
    assert config_args.parse("", GROUPS) == expected
    assert config_args.parse(",", GROUPS) == expected


def test_every_token_in_any_order():
    expected = {"database": "megc2019", "input": "apex", "protocol": "cde", "tim": True}
    for tokens in itertools.permutations(("megc2019", "apex", "cde", "tim")):
        assert config_args.parse(",".join(tokens), GROUPS) == expected
    assert config_args.parse(" casme2 , hde,", GROUPS) == {
        "database": "casme2",
        "input": "flow",
        "protocol": "hde",
        "tim": False,
    }


def test_a_database_default_other_than_the_first():
    group = config_args.databases("casme2", "samm", default="samm")
    assert config_args.parse(None, {"database": group}) == {"database": "samm"}


def error(arg, groups=GROUPS):
    with pytest.raises(ValueError) as info:
        config_args.parse(arg, groups)
    message = str(info.value)
    for token in CHOICES:
        assert token in message, f"{token!r} missing from {message!r}"
    assert "(default)" in message
    return message


@pytest.mark.parametrize(
    "arg, expected",
    [
        ("casme3", "unknown config argument 'casme3'"),
        ("casme2,r50", "unknown config argument 'r50'"),
        ("casme2,samm", "database 'samm' is not one this config takes"),
        ("smic,apex", "database 'smic' is not one this config takes"),
        ("casme2,megc2019", "two tokens of the group 'database', 'casme2' and 'megc2019'"),
        ("flow,apex", "two tokens of the group 'input', 'flow' and 'apex'"),
        ("loso,cde", "two tokens of the group 'protocol'"),
        ("tim,casme2,tim", "two tokens of the group 'tim'"),
    ],
)
def test_errors_name_the_choices(arg, expected):
    assert expected in error(arg)


def test_group_docs_are_in_errors():
    groups = {"setting": config_args.choice(("sca", "mer"), default=None, doc="mer: recognition")}
    with pytest.raises(ValueError, match=r"setting: sca, mer, or none \(mer: recognition\)"):
        config_args.parse("stap", groups)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: config_args.databases("synth", "casme3"), "unknown databases.*casme3"),
        (lambda: config_args.databases("synth", default="samm"), "default database 'samm'"),
        (lambda: config_args.choice(("a", "b"), default="c"), "default 'c'"),
        (lambda: config_args.choice((), default=None), "at least one token"),
        (lambda: config_args.choice(("a,b",), default=None), "without commas"),
        (lambda: config_args.choice(("a", "a"), default=None), "repeated tokens"),
        (lambda: config_args.builder("casme3"), "unknown database 'casme3'"),
    ],
)
def test_bad_declarations(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_a_token_in_two_groups_is_an_error():
    groups = {"a": config_args.choice(("x", "y"), default="x"), "b": config_args.flag("y")}
    with pytest.raises(ValueError, match="'y' is in both groups 'a' and 'b'"):
        config_args.parse(None, groups)


def test_every_database_names_a_builder_config_of_the_project():
    for token, name in config_args.DATABASES.items():
        builder_name, _, config = name.partition("/")
        importlib.import_module(f"mejax.datasets.{builder_name}")  # registers the builder
        cls = tfds.builder_cls(builder_name)
        assert cls.__module__.startswith(f"mejax.datasets.{builder_name}"), token
        if config:
            assert config in {c.name for c in cls.BUILDER_CONFIGS}, token
