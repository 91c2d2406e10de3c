"""The dataset spec: a small TOML file that tells the pipeline where a user's data is and what its columns mean.

A spec names the orders (required), the events (optional) and the link between customers and event
users (optional)::

    name = "my-shop"
    currency = "EUR"

    [orders]
    path = "exports/orders.parquet"     # CSV or Parquet file, folder or glob; or a database (below)
    customer = "customer_id"
    timestamp = "created_at"
    amount = "total"

    [events]
    path = "exports/events/*.parquet"
    user = "visitor_id"
    timestamp = "ts"
    event_type = "event"
    [events.types]
    page_view = ["page_view", "home"]
    add_to_cart = ["add_to_cart"]
    purchase = ["purchase"]

    [link]
    column = "customer_id"               # the events' column that holds the customer id

Two optional attribute tables add features from a shop's dimension tables: ``[customers]`` (one row
per customer: ``customer`` and ``region``) and ``[products]`` (one row per product: ``product`` and
``category``, joined on the ``[orders] product`` column of each order line).

The built-in datasets are specs too: ``olist`` (the Kaggle Olist + clickstream pair in a folder)
and ``demo`` (the generated demo). Every key is listed in :data:`KEYS`; an unknown key is refused
with the list of valid ones. Relative paths are resolved against the spec file's folder.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from clvlib.schemas import EVENT_TYPES

__all__ = ["SpecError", "TableSpec", "OrdersSpec", "EventsSpec", "LinkSpec", "AttributeSpec", "DatasetSpec", "KEYS",
           "ATTRIBUTE_TABLES",
           "EVENT_ALIASES", "load_spec", "parse_spec", "spec_from_dict", "builtin_spec", "is_database", "duckdb_file"]


class SpecError(ValueError):
    """A dataset spec that cannot be used; the message names the file, the key and what is valid."""


#: Where a table comes from: a file, folder or glob (CSV or Parquet), or a database.
SOURCE_KEYS = {
    "path": "CSV or Parquet file, folder or glob; or a database URL: duckdb:///file.duckdb, "
            "postgresql://user@host/db (with table or query)",
    "table": "table name in the database (with a database path), or ?table=... in the URL",
    "query": "SQL query run on the database (instead of table)",
    "format": '"csv" or "parquet" (default: from the file extension)',
    "delimiter": 'CSV field separator (default ",")',
    "encoding": 'CSV text encoding (default "utf-8"; e.g. "latin-1")',
}
ORDERS_KEYS = {
    **SOURCE_KEYS,
    "customer": "column holding the person (required)",
    "timestamp": "column holding the order time (required)",
    "timestamp_format": 'strftime format when the timestamps are not ISO, e.g. "%Y%m%d" or "%d/%m/%Y %H:%M"',
    "amount": "column holding the order (or order line) value; or give price (and quantity)",
    "price": "unit price column of an order line (with quantity; summed per order)",
    "quantity": "quantity column of an order line (default 1)",
    "order_id": "column identifying the order; rows sharing it are lines of one order (default: each row is an order)",
    "status": "column holding the order status (with keep_statuses)",
    "keep_statuses": "statuses that count as a sale, e.g. [\"paid\", \"shipped\"] (default: all)",
    "category": "optional column: product category (a feature: the category of the last order)",
    "region": "optional column: the customer's region or state (a feature)",
    "payment_type": "optional column: payment type (a feature)",
    "product": "optional column: the product id of an order line, whose category a [products] table gives",
    "valid_from": 'first valid order date "YYYY-MM-DD": earlier rows are dropped and counted',
    "valid_to": 'last valid order date "YYYY-MM-DD": later rows are dropped and counted',
}
EVENTS_KEYS = {
    **SOURCE_KEYS,
    "user": "column holding the event's user (required)",
    "timestamp": "column holding the event time (required)",
    "timestamp_format": "strftime format when the timestamps are not ISO",
    "event_type": "column holding the event's type (required)",
    "session": "column holding the session id (default: sessions split by session_gap_minutes of inactivity)",
    "session_gap_minutes": "inactivity that starts a new session when there is no session column (default 30)",
    "amount": "column holding the amount of purchase events (optional)",
    "types": "table mapping our event types to your event names (default: names already ours)",
    "valid_from": "first valid event date: earlier rows are dropped and counted",
    "valid_to": "last valid event date: later rows are dropped and counted",
}
LINK_KEYS = {
    **SOURCE_KEYS,
    "column": "the events' column that holds the customer id (the events' user is then linked to that customer)",
    "customer": "key table: column holding the customer id",
    "user": "key table: column holding the events' user id",
}
CUSTOMERS_KEYS = {
    **SOURCE_KEYS,
    "customer": "column holding the customer id, as in [orders] (required; one row per customer)",
    "region": "column holding the customer's region or state (required; a feature)",
}
PRODUCTS_KEYS = {
    **SOURCE_KEYS,
    "product": "column holding the product id, as in [orders] product (required; one row per product)",
    "category": "column holding the product's category (required; a feature: the category of the last order)",
}
TOP_KEYS = {
    "name": "names the workspace and the reports (letters, digits, - and _)",
    "currency": 'currency of the amounts, e.g. "EUR" (default "units")',
    "description": "one line shown on the reports",
    "layout": '"spec" (default), "olist" (the Kaggle Olist + clickstream files in raw_dir) or "demo"',
    "raw_dir": 'layout "olist": the folder with the Kaggle files',
    "size": 'layout "demo": customers to generate',
    "seed": 'layout "demo": random seed',
    "orders": "section: the orders (required for layout spec)",
    "events": "section: the event log (optional)",
    "link": "section: how customers and event users match (optional)",
    "customers": "section: a customer table giving each customer's region (optional)",
    "products": "section: a product table giving each product's category (optional; needs [orders] product)",
}
#: Every valid key, by section.
KEYS: dict[str, dict[str, str]] = {"": TOP_KEYS, "orders": ORDERS_KEYS, "events": EVENTS_KEYS, "link": LINK_KEYS,
                                   "customers": CUSTOMERS_KEYS, "products": PRODUCTS_KEYS}
#: The optional attribute tables: section -> (its key column, its attribute column, the [orders] key they replace).
ATTRIBUTE_TABLES = {"customers": ("customer", "region", "region"), "products": ("product", "category", "category")}

#: Short names accepted in ``[events.types]`` besides our event types themselves.
EVENT_ALIASES = {"view": "page_view", "cart": "add_to_cart", "checkout": "purchase"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def duckdb_file(path: str) -> str:
    """The database file of a ``duckdb://`` URL: ``duckdb:///shop.duckdb`` is relative, ``duckdb:////abs/shop.duckdb`` absolute."""
    rest = path[len("duckdb://"):]
    return rest[1:] if rest.startswith("/") else rest


def is_database(path: str | None) -> bool:
    """True when ``path`` is a database URL (``duckdb://``, ``postgresql://``, ``postgres://``)."""
    return bool(path) and bool(re.match(r"^(duckdb|postgresql|postgres)://", str(path)))


@dataclass(frozen=True)
class TableSpec:
    """Where one table comes from."""

    path: str
    table: str | None = None
    query: str | None = None
    format: str | None = None
    delimiter: str = ","
    encoding: str = "utf-8"

    def describe(self) -> str:
        """The source in a few words, for messages and reports (never a password)."""
        where = re.sub(r"://([^:@/]+):[^@/]*@", r"://\1:***@", self.path)
        if self.query:
            return f"{where} (query)"
        return f"{where} (table {self.table})" if self.table else where


@dataclass(frozen=True)
class OrdersSpec:
    source: TableSpec
    customer: str
    timestamp: str
    amount: str | None = None
    price: str | None = None
    quantity: str | None = None
    order_id: str | None = None
    status: str | None = None
    keep_statuses: tuple[str, ...] | None = None
    timestamp_format: str | None = None
    category: str | None = None
    region: str | None = None
    payment_type: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    product: str | None = None


@dataclass(frozen=True)
class AttributeSpec:
    """An optional table giving one attribute per key: a customer's region, a product's category."""

    source: TableSpec
    key: str
    attribute: str


@dataclass(frozen=True)
class EventsSpec:
    source: TableSpec
    user: str
    timestamp: str
    event_type: str
    session: str | None = None
    session_gap_minutes: float = 30.0
    amount: str | None = None
    types: dict[str, tuple[str, ...]] = field(default_factory=dict)
    timestamp_format: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None


@dataclass(frozen=True)
class LinkSpec:
    column: str | None = None
    source: TableSpec | None = None
    customer: str | None = None
    user: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """A parsed dataset spec (see the module docstring); ``file`` is where it was read from."""

    name: str
    layout: str = "spec"
    currency: str = "units"
    description: str = ""
    orders: OrdersSpec | None = None
    events: EventsSpec | None = None
    link: LinkSpec | None = None
    customers: AttributeSpec | None = None
    products: AttributeSpec | None = None
    raw_dir: str | None = None
    size: int | None = None
    seed: int | None = None
    file: str | None = None

    @property
    def has_events(self) -> bool:
        return self.layout != "spec" or self.events is not None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form (for ``workspace.json``); :func:`spec_from_dict` reads it back."""
        return _drop_none(asdict(self))


def _drop_none(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [_drop_none(v) for v in obj]
    return obj


def _check_keys(section: Mapping[str, Any], valid: Mapping[str, str], where: str, origin: str) -> None:
    unknown = [k for k in section if k not in valid]
    if unknown:
        listing = "\n".join(f"  {k}: {v}" for k, v in valid.items())
        raise SpecError(f"{origin}: unknown key(s) {unknown} in {where}. Valid keys there:\n{listing}")


def _str(section: Mapping[str, Any], key: str, where: str, origin: str, required: bool = False) -> str | None:
    value = section.get(key)
    if value is None:
        if required:
            raise SpecError(f"{origin}: {where} needs {key} = \"...\" ({KEYS[where.strip('[]')][key]}).")
        return None
    if not isinstance(value, str) or not value.strip():
        raise SpecError(f"{origin}: {where} {key} must be a non-empty string, got {value!r}.")
    return value


def _date(section: Mapping[str, Any], key: str, where: str, origin: str) -> str | None:
    value = section.get(key)
    if value is None:
        return None
    text = str(value)  # TOML dates arrive as datetime.date
    if not re.match(r"^\d{4}-\d{2}-\d{2}", text):
        raise SpecError(f"{origin}: {where} {key} must be a date YYYY-MM-DD, got {value!r}.")
    return text[:10]


def _source(section: Mapping[str, Any], where: str, origin: str, base: Path | None) -> TableSpec:
    path = _str(section, "path", where, origin, required=True)
    table, query = _str(section, "table", where, origin), _str(section, "query", where, origin)
    if is_database(path):
        m = re.search(r"[?&]table=([^&]+)", path)
        if m and table is None:
            table = m.group(1)
            path = re.sub(r"[?&]table=[^&]+", "", path)
        if not table and not query:
            raise SpecError(f"{origin}: {where} path {path!r} is a database: give table = \"...\" or query = \"...\".")
        if path.startswith("duckdb://") and base is not None:
            file = Path(duckdb_file(path))
            if not file.is_absolute():
                path = "duckdb:///" + str((base / file).resolve())
    else:
        if table or query:
            raise SpecError(f"{origin}: {where} table/query need a database path (duckdb:///... or postgresql://...), "
                            f"not the file path {path!r}.")
        p = Path(path).expanduser()
        if not p.is_absolute() and base is not None:
            p = base / p
        path = str(p)
    fmt = _str(section, "format", where, origin)
    if fmt is not None and fmt not in ("csv", "parquet"):
        raise SpecError(f"{origin}: {where} format must be \"csv\" or \"parquet\", got {fmt!r}.")
    delimiter = _str(section, "delimiter", where, origin) or ","
    if len(delimiter) != 1 and delimiter != "\\t":
        raise SpecError(f"{origin}: {where} delimiter must be one character, got {delimiter!r}.")
    return TableSpec(path=path, table=table, query=query, format=fmt, delimiter="\t" if delimiter == "\\t" else delimiter,
                     encoding=_str(section, "encoding", where, origin) or "utf-8")


def _orders(sec: Mapping[str, Any], origin: str, base: Path | None) -> OrdersSpec:
    w = "[orders]"
    _check_keys(sec, ORDERS_KEYS, w, origin)
    amount, price = _str(sec, "amount", w, origin), _str(sec, "price", w, origin)
    if (amount is None) == (price is None):
        raise SpecError(f"{origin}: {w} needs exactly one of amount = \"column\" (the order or line value) "
                        "or price = \"column\" (with quantity = \"column\" for order lines).")
    quantity = _str(sec, "quantity", w, origin)
    if quantity and not price:
        raise SpecError(f"{origin}: {w} quantity goes with price (value = price x quantity), not with amount.")
    keep = sec.get("keep_statuses")
    if keep is not None:
        if not isinstance(keep, list) or not keep or not all(isinstance(s, str) for s in keep):
            raise SpecError(f"{origin}: {w} keep_statuses must be a list of strings, got {keep!r}.")
        if not sec.get("status"):
            raise SpecError(f"{origin}: {w} keep_statuses needs status = \"column\".")
    return OrdersSpec(
        source=_source(sec, w, origin, base), customer=_str(sec, "customer", w, origin, True),
        timestamp=_str(sec, "timestamp", w, origin, True), amount=amount, price=price, quantity=quantity,
        order_id=_str(sec, "order_id", w, origin), status=_str(sec, "status", w, origin),
        keep_statuses=tuple(keep) if keep else None, timestamp_format=_str(sec, "timestamp_format", w, origin),
        category=_str(sec, "category", w, origin), region=_str(sec, "region", w, origin),
        payment_type=_str(sec, "payment_type", w, origin), product=_str(sec, "product", w, origin),
        valid_from=_date(sec, "valid_from", w, origin), valid_to=_date(sec, "valid_to", w, origin))


def _attribute(name: str, sec: Mapping[str, Any], orders: OrdersSpec, origin: str, base: Path | None) -> AttributeSpec:
    w = f"[{name}]"
    _check_keys(sec, KEYS[name], w, origin)
    key, attribute, replaces = ATTRIBUTE_TABLES[name]
    if getattr(orders, replaces):
        raise SpecError(f"{origin}: [orders] {replaces} and {w} both give the {replaces}; keep one of them.")
    if name == "products" and not orders.product:
        raise SpecError(f"{origin}: [products] needs [orders] product = \"column\" (the product id of each order "
                        "line) to join on.")
    return AttributeSpec(source=_source(sec, w, origin, base), key=_str(sec, key, w, origin, True),
                         attribute=_str(sec, attribute, w, origin, True))


def _events(sec: Mapping[str, Any], origin: str, base: Path | None) -> EventsSpec:
    w = "[events]"
    _check_keys(sec, EVENTS_KEYS, w, origin)
    raw_types = sec.get("types") or {}
    if not isinstance(raw_types, Mapping):
        raise SpecError(f"{origin}: [events.types] must be a table like purchase = [\"order_completed\"].")
    types: dict[str, tuple[str, ...]] = {}
    for ours, theirs in raw_types.items():
        canonical = EVENT_ALIASES.get(ours, ours)
        if canonical not in EVENT_TYPES:
            raise SpecError(f"{origin}: [events.types] has {ours!r}; our event types are {list(EVENT_TYPES)} "
                            f"(aliases {EVENT_ALIASES}).")
        names = [theirs] if isinstance(theirs, str) else theirs
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise SpecError(f"{origin}: [events.types] {ours} must be a name or a list of names, got {theirs!r}.")
        types[canonical] = tuple(types.get(canonical, ())) + tuple(names)
    seen: dict[str, str] = {}
    for ours, names in types.items():
        for n in names:
            if n in seen and seen[n] != ours:
                raise SpecError(f"{origin}: [events.types] maps {n!r} to both {seen[n]} and {ours}.")
            seen[n] = ours
    gap = sec.get("session_gap_minutes", 30)
    if not isinstance(gap, int | float) or isinstance(gap, bool) or gap <= 0:
        raise SpecError(f"{origin}: [events] session_gap_minutes must be a positive number, got {gap!r}.")
    return EventsSpec(
        source=_source(sec, w, origin, base), user=_str(sec, "user", w, origin, True),
        timestamp=_str(sec, "timestamp", w, origin, True), event_type=_str(sec, "event_type", w, origin, True),
        session=_str(sec, "session", w, origin), session_gap_minutes=float(gap), amount=_str(sec, "amount", w, origin),
        types=types, timestamp_format=_str(sec, "timestamp_format", w, origin),
        valid_from=_date(sec, "valid_from", w, origin), valid_to=_date(sec, "valid_to", w, origin))


def _link(sec: Mapping[str, Any], origin: str, base: Path | None) -> LinkSpec:
    w = "[link]"
    _check_keys(sec, LINK_KEYS, w, origin)
    column = _str(sec, "column", w, origin)
    if column is not None:
        extra = [k for k in sec if k != "column"]
        if extra:
            raise SpecError(f"{origin}: [link] column = ... links through the events; it takes no {extra}.")
        return LinkSpec(column=column)
    if "path" not in sec:
        raise SpecError(f"{origin}: [link] needs column = \"...\" (the events' column holding the customer id) "
                        "or path = \"...\" with customer = \"...\" and user = \"...\" (a key table).")
    return LinkSpec(source=_source(sec, w, origin, base), customer=_str(sec, "customer", w, origin, True),
                    user=_str(sec, "user", w, origin, True))


def parse_spec(data: Mapping[str, Any], origin: str = "dataset spec", base_dir: str | Path | None = None) -> DatasetSpec:
    """Check a spec's keys and values and return a :class:`DatasetSpec`.

    Parameters
    ----------
    data
        The parsed TOML (or :meth:`DatasetSpec.to_dict` output).
    origin
        How to name the spec in messages (its file name).
    base_dir
        Folder relative paths are resolved against (the spec file's folder).

    Raises
    ------
    SpecError
        For an unknown key (listing the valid ones), a missing required key or an invalid value.
    """
    _check_keys(data, {**TOP_KEYS, "file": ""}, "the top level", origin)
    base = Path(base_dir) if base_dir is not None else None
    name = data.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError(f"{origin}: name = \"...\" is required: letters, digits, - and _ (it names the workspace), "
                        f"got {name!r}.")
    layout = data.get("layout", "spec")
    if layout not in ("spec", "olist", "demo"):
        raise SpecError(f"{origin}: layout must be \"spec\", \"olist\" or \"demo\", got {layout!r}.")
    sections = {k: data.get(k) for k in ("orders", "events", "link", *ATTRIBUTE_TABLES)}
    for k, v in sections.items():
        if v is not None and not isinstance(v, Mapping):
            raise SpecError(f"{origin}: {k} must be a section [{k}], got {v!r}.")
    common = dict(name=name, layout=layout, currency=str(data.get("currency", "BRL" if layout != "spec" else "units")),
                  description=str(data.get("description", "")), file=data.get("file"))
    if layout != "spec":
        if any(sections.values()):
            raise SpecError(f"{origin}: layout {layout!r} reads its own files; [orders], [events], [link], [customers] "
                            "and [products] are for layout \"spec\".")
        raw_dir = data.get("raw_dir")
        if layout == "olist" and raw_dir is not None and base is not None and not Path(raw_dir).is_absolute():
            raw_dir = str(base / raw_dir)
        return DatasetSpec(**common, raw_dir=raw_dir, size=data.get("size"), seed=data.get("seed"))
    if sections["orders"] is None:
        raise SpecError(f"{origin}: an [orders] section is required (path, customer, timestamp, amount).")
    orders = _orders(sections["orders"], origin, base)
    events = _events(sections["events"], origin, base) if sections["events"] is not None else None
    link = _link(sections["link"], origin, base) if sections["link"] is not None else None
    if link is not None and events is None:
        raise SpecError(f"{origin}: [link] needs an [events] section to link to.")
    extra = {k: _attribute(k, sections[k], orders, origin, base) for k in ATTRIBUTE_TABLES if sections[k] is not None}
    return DatasetSpec(**common, orders=orders, events=events, link=link, **extra)


def load_spec(path: str | Path) -> DatasetSpec:
    """Read and check a TOML dataset spec (see :func:`parse_spec`)."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise SpecError(f"Dataset spec {p} not found. Give a .toml file, or a built-in dataset: olist, demo.")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise SpecError(f"{p}: not valid TOML ({exc}).") from exc
    except UnicodeDecodeError as exc:
        raise SpecError(f"{p}: not UTF-8 text ({exc.reason}).") from exc
    return parse_spec({**data, "file": str(p.resolve())}, origin=p.name, base_dir=p.resolve().parent)


def builtin_spec(name: str, raw_dir: str | Path | None = None, size: int | None = None,
                 seed: int | None = None) -> DatasetSpec:
    """The built-in datasets as specs: ``olist`` (the Kaggle pair in ``raw_dir``) and ``demo``."""
    if name == "olist":
        return DatasetSpec(name="olist", layout="olist", currency="BRL",
                           raw_dir=str(raw_dir) if raw_dir is not None else None)
    if name == "demo":
        return DatasetSpec(name="demo", layout="demo", currency="BRL", size=size, seed=seed)
    raise SpecError(f"Unknown built-in dataset {name!r}: use olist or demo, or the path of a .toml spec.")


def spec_from_dict(d: Mapping[str, Any]) -> DatasetSpec:
    """Read back :meth:`DatasetSpec.to_dict` output (paths are already absolute)."""
    data = dict(d)
    out: dict[str, Any] = {k: v for k, v in data.items() if k not in ("orders", "events", "link", *ATTRIBUTE_TABLES)}
    for key, build in (("orders", _orders_from), ("events", _events_from), ("link", _link_from),
                       ("customers", _attribute_from), ("products", _attribute_from)):
        if data.get(key) is not None:
            out[key] = build(data[key])
    return DatasetSpec(**out)


def _table_from(d: Mapping[str, Any]) -> TableSpec:
    return TableSpec(**d)


def _orders_from(d: Mapping[str, Any]) -> OrdersSpec:
    d = dict(d)
    d["source"] = _table_from(d["source"])
    if d.get("keep_statuses") is not None:
        d["keep_statuses"] = tuple(d["keep_statuses"])
    return OrdersSpec(**d)


def _events_from(d: Mapping[str, Any]) -> EventsSpec:
    d = dict(d)
    d["source"] = _table_from(d["source"])
    d["types"] = {k: tuple(v) for k, v in (d.get("types") or {}).items()}
    return EventsSpec(**d)


def _attribute_from(d: Mapping[str, Any]) -> AttributeSpec:
    return AttributeSpec(**{**d, "source": _table_from(d["source"])})


def _link_from(d: Mapping[str, Any]) -> LinkSpec:
    d = dict(d)
    if d.get("source") is not None:
        d["source"] = _table_from(d["source"])
    return LinkSpec(**d)
