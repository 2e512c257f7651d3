"""The module-level functions: one per client method, with its signature, and 0.1.0's ``version=`` kept."""

from __future__ import annotations

import inspect
import pydoc
import re
import warnings

import pytest

import mlflow_allowance
from mlflow_allowance import AllowanceClient, ModelVersionInfo, _deprecation, _fluent
from tests.fakes import InMemoryRegistry

#: Every module-level function, whatever the list says: the functions of the top-level ``__all__``.
FUNCTIONS = sorted(n for n in mlflow_allowance.__all__ if inspect.isfunction(getattr(mlflow_allowance, n)))
#: Module-level functions with no client method of the same name, and why.
WITHOUT_METHOD = {"dashboard": "builds its client per page load from the URIs it is given"}
WITH_METHOD = [name for name in FUNCTIONS if name not in WITHOUT_METHOD]
RENAMED = "register_model(version=...) is deprecated and will be removed in {}; pass semver=... instead"


def _without_self(signature: inspect.Signature) -> inspect.Signature:
    return signature.replace(parameters=list(signature.parameters.values())[1:])


class TestSignatures:
    def test_the_fluent_module_lists_every_function(self) -> None:
        assert sorted(_fluent.__all__) == FUNCTIONS

    def test_the_list_is_not_empty(self) -> None:
        assert {"evaluate", "list_datasets", "dashboard", "select", "promote"} <= set(FUNCTIONS)

    @pytest.mark.parametrize("name", WITH_METHOD)
    def test_signature_is_the_client_methods_without_self(self, name: str) -> None:
        method = inspect.signature(getattr(AllowanceClient, name))
        function = inspect.signature(getattr(mlflow_allowance, name))
        assert next(iter(method.parameters)) == "self"
        assert function == _without_self(method)
        assert function.return_annotation == method.return_annotation

    def test_functions_without_a_method_are_the_known_ones(self) -> None:
        assert {n for n in FUNCTIONS if not hasattr(AllowanceClient, n)} == set(WITHOUT_METHOD)

    @pytest.mark.parametrize("name", sorted(WITHOUT_METHOD))
    def test_uri_parameters_are_the_clients(self, name: str) -> None:
        """A function that builds its own client takes the URIs as the client does, by keyword."""
        client = inspect.signature(AllowanceClient).parameters
        function = inspect.signature(getattr(mlflow_allowance, name)).parameters
        for uri in ("tracking_uri", "registry_uri"):
            assert function[uri].kind is inspect.Parameter.KEYWORD_ONLY
            assert (function[uri].annotation, function[uri].default) == (
                client[uri].annotation,
                client[uri].default,
            )

    @pytest.mark.parametrize("name", FUNCTIONS)
    def test_help_shows_the_signature_and_every_parameter(self, name: str) -> None:
        function = getattr(mlflow_allowance, name)
        text = pydoc.plain(pydoc.render_doc(function))
        assert f"\n{name}{inspect.signature(function)}\n" in text
        assert [p for p in inspect.signature(function).parameters if p not in text] == []

    @pytest.mark.parametrize("name", FUNCTIONS)
    def test_function_belongs_to_the_package(self, name: str) -> None:
        function = getattr(mlflow_allowance, name)
        assert (function.__module__, function.__name__, function.__qualname__) == (
            "mlflow_allowance",
            name,
            name,
        )
        assert not hasattr(function, "__wrapped__")  # help() and doctest see the function itself


@pytest.fixture
def fake() -> InMemoryRegistry:
    return InMemoryRegistry()


@pytest.fixture
def fluent_on(fake: InMemoryRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    """The module-level functions talk to ``fake`` instead of MLflow's current URIs."""
    monkeypatch.setattr(_fluent, "AllowanceClient", lambda: AllowanceClient(registry=fake))


class TestRenamedVersionKeyword:
    """``register_model(..., version="2.0")`` (0.1.0) works as ``semver="2.0"`` until the shims go."""

    def test_client_accepts_version_with_a_warning(self, fake: InMemoryRegistry) -> None:
        client = AllowanceClient(registry=fake)
        with pytest.warns(
            DeprecationWarning, match=re.escape(RENAMED.format(_deprecation.REMOVED_IN))
        ) as caught:
            info = client.register_model("file:///tmp/model", "AImodel", version="2.0")  # type: ignore[call-arg]
        assert info == ModelVersionInfo("AImodel", 1, "2.0")
        assert caught[0].filename == __file__

    def test_fluent_accepts_version_with_a_warning(self, fluent_on: None) -> None:
        with pytest.warns(
            DeprecationWarning, match=re.escape(RENAMED.format(_deprecation.REMOVED_IN))
        ) as caught:
            info = mlflow_allowance.register_model("file:///tmp/model", "AImodel", version="2.0")  # type: ignore[call-arg]
        assert info == ModelVersionInfo("AImodel", 1, "2.0")
        assert len(caught) == 1  # one warning, not one from the function and one from the method
        assert caught[0].filename == __file__

    def test_the_result_is_the_same_as_with_semver(self, fake: InMemoryRegistry) -> None:
        client = AllowanceClient(registry=fake)
        with pytest.warns(DeprecationWarning, match="pass semver="):
            old = client.register_model("file:///tmp/model", "AImodel", version="2.0")  # type: ignore[call-arg]
        new = client.register_model("file:///tmp/model", "AImodel", semver="2.1")
        assert (old.semver, new.semver) == ("2.0", "2.1")
        assert fake.writes == ["register", "register"]

    def test_semver_warns_nothing(self, fake: InMemoryRegistry, fluent_on: None) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            AllowanceClient(registry=fake).register_model("file:///tmp/model", "AImodel", semver="1.0")
            mlflow_allowance.register_model("file:///tmp/model", "AImodel", semver="1.1")

    @pytest.mark.parametrize("call", ["client", "fluent"])
    def test_both_spellings_are_a_type_error(
        self, call: str, fake: InMemoryRegistry, fluent_on: None
    ) -> None:
        register = (
            AllowanceClient(registry=fake).register_model
            if call == "client"
            else mlflow_allowance.register_model
        )
        snapshot = fake.snapshot()
        with pytest.raises(
            TypeError, match=r"register_model\(\) got semver= and its deprecated name version="
        ):
            register("file:///tmp/model", "AImodel", semver="1.0", version="1.0")  # type: ignore[call-arg]
        assert fake.snapshot() == snapshot

    def test_signature_shows_semver_only(self) -> None:
        for function in (AllowanceClient.register_model, mlflow_allowance.register_model):
            parameters = inspect.signature(function).parameters
            assert "semver" in parameters
            assert "version" not in parameters
