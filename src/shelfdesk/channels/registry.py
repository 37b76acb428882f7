"""One entry point from a marketplace name to its connector, so services never branch on names."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from shelfdesk.channels.base import Capabilities, Connector
from shelfdesk.clock import Clock
from shelfdesk.domain import Marketplace

Factory = Callable[..., Connector]


def _backmarket(*, credential: str, clock: Clock, base_url: str | None = None, **options: Any) -> Connector:
    from shelfdesk.channels.backmarket import BackMarketConnector

    return BackMarketConnector(token=credential, clock=clock, base_url=base_url, **options)


def _leboncoin(*, credential: str, clock: Clock, base_url: str | None = None, **options: Any) -> Connector:
    from shelfdesk.channels.leboncoin import DEFAULT_BASE_URL, LeboncoinConnector

    return LeboncoinConnector(refresh_token=credential, clock=clock, base_url=base_url or DEFAULT_BASE_URL, **options)


_FACTORIES: dict[Marketplace, Factory] = {Marketplace.backmarket: _backmarket, Marketplace.leboncoin: _leboncoin}
_CLASSES: dict[Marketplace, str] = {
    Marketplace.backmarket: "shelfdesk.channels.backmarket:BackMarketConnector",
    Marketplace.leboncoin: "shelfdesk.channels.leboncoin:LeboncoinConnector",
}


def register(marketplace: Marketplace, factory: Factory, connector_class: str | None = None) -> None:
    """Add or replace a marketplace's factory (a new marketplace, or a fake in a test).

    ``connector_class`` ("module:Class") is where :func:`capabilities` finds it.
    """
    _FACTORIES[Marketplace(marketplace)] = factory
    if connector_class:
        _CLASSES[Marketplace(marketplace)] = connector_class


def get_connector(
    marketplace: Marketplace | str, *, credential: str, clock: Clock, base_url: str | None = None, **options: Any
) -> Connector:
    """A connector for ``marketplace``.

    ``credential`` is the Back Market token or the Leboncoin refresh token.
    ``options`` go to the connector's constructor: ``client``/``transport``,
    ``timeout``, ``policy``; for Back Market ``company``, ``contact_email``,
    ``integration``, ``region``, ``preprod``, ``language``.
    """
    try:
        factory = _FACTORIES[Marketplace(marketplace)]
    except (KeyError, ValueError):
        raise ValueError(f"no connector for marketplace {marketplace!r}") from None
    return factory(credential=credential, clock=clock, base_url=base_url, **options)


def connector_class(marketplace: Marketplace | str) -> type[Connector] | None:
    """The connector class of ``marketplace`` (imported on first use), or None when none is registered."""
    try:
        target = _CLASSES[Marketplace(marketplace)]
    except (KeyError, ValueError):
        return None
    module_name, _, class_name = target.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def constructor_options(marketplace: Marketplace | str) -> frozenset[str]:
    """Keyword arguments the connector class of ``marketplace`` accepts (empty when unknown).

    Services pass an account's identity (company, contact e-mail, region)
    only to connectors that take it, without branching on marketplace names.
    """
    cls = connector_class(marketplace)
    return frozenset(inspect.signature(cls.__init__).parameters) if cls is not None else frozenset()


def capabilities(marketplace: Marketplace | str) -> Capabilities:
    """A marketplace's capabilities without building a connector."""
    cls = connector_class(marketplace)
    if cls is None:
        raise ValueError(f"no connector for marketplace {marketplace!r}")
    return cls.capabilities()
