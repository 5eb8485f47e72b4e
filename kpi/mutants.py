"""Mutation testing of indicators (`kpi test --mutants`): small wrong versions of an indicator's
numerator, denominator and the shared views and macros they read, each run against the indicator's
cases; a mutant that no case tells apart from the real SQL survives, with the kind of case that would.

Definitions on disk are never changed: a mutant lives in the test connection only, installed in place
of the real SQL and put back after. It does not write or judge the cases themselves (testing.py runs them).
"""

from __future__ import annotations

import os
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

import duckdb
import sqlglot
from sqlglot import exp

from kpi.database import columns_of, install_period
from kpi.definitions import AllowedMutant, Indicator, SharedDefinition, Sql, TestCase
from kpi.extracts import Table
from kpi.plan import names_read, period_rows, shared_body
from kpi.testing import check_case, load_case, open_case_database, refused

DIALECT = "duckdb"
# Comparisons and what each becomes: its boundary moved (loosened or tightened) and its negation.
COMPARISONS: dict[type, tuple[type, ...]] = {
    exp.LT: (exp.LTE, exp.GTE), exp.LTE: (exp.LT, exp.GT), exp.GT: (exp.GTE, exp.LTE),
    exp.GTE: (exp.GT, exp.LT), exp.EQ: (exp.NEQ, exp.LTE, exp.GTE), exp.NEQ: (exp.EQ,),
}
# The window's bounds and the other columns of `period` a wrong query might read instead.
PERIOD_NEIGHBOURS = {
    "start_date": ("end_date", "month_start", "quarter_start", "fy_start"),
    "end_date": ("start_date", "month_end", "quarter_end", "fy_end"),
}
SNIPPET = 70  # characters of SQL shown for the part a mutant changes


@dataclass(frozen=True)
class Mutant:
    """One altered version of a query, view or macro: `name` is what `mutants: allow:` quotes."""

    name: str
    target: str  # numerator | denominator | view <name> | macro <name>
    where: str  # file:line of the part changed
    hint: str  # the kind of case that would kill it
    sql: str  # the whole altered query, or the altered CREATE statement


@dataclass(frozen=True)
class MutantsResult:
    """What the mutants of one indicator came to."""

    indicator: Indicator
    total: int = 0
    killed: int = 0
    compiler: int = 0  # failed to parse or bind
    unread: int = 0  # change a column the indicator never reads (not run)
    equivalent: tuple[tuple[Mutant, AllowedMutant], ...] = ()
    survivors: tuple[Mutant, ...] = ()
    stale: tuple[AllowedMutant, ...] = ()  # allowed, but no such mutant survives
    error: str | None = None  # the cases do not pass on the real SQL: nothing to measure

    @property
    def passed(self) -> bool:
        return self.error is None and not self.survivors and not self.stale


# ---------------------------------------------------------------------------------------------------
# Generating mutants


@dataclass(frozen=True)
class _Source:
    """A piece of SQL to mutate: the text that is parsed, and how a mutated tree becomes runnable SQL."""

    target: str
    text: str  # a SELECT (or a scalar macro's expression as `SELECT expr`)
    file: str
    first_line: int  # the file line of the text's first line
    rebuild: Callable[[exp.Expression], str]
    name: str = ""  # the view's or macro's name, as other SQL reads it
    others: tuple[tuple[str, str], ...] = ()  # (name, SQL) of the indicator's other queries, views, macros


def _sources(indicator: Indicator, shared: list[SharedDefinition]) -> list[_Source]:
    """The indicator's numerator and denominator, and each shared definition they read."""
    queries = [(part, sql) for part in ("numerator", "denominator") if (sql := getattr(indicator, part)) is not None]
    read = names_read([sql for _, sql in queries], shared)
    used = [d for d in shared if d.name in read]
    texts = {part: sql.text for part, sql in queries} | {d.name: shared_body(d) for d in used}
    sources = []
    for part, sql in queries:
        sources.append(_Source(part, sql.text, sql.file, sql.line, lambda tree: tree.sql(dialect=DIALECT),
                               part, tuple((k, t) for k, t in texts.items() if k != part)))
    for definition in used:
        sources.append(_shared_source(definition, tuple((k, t) for k, t in texts.items() if k != definition.name)))
    return sources


def _shared_source(definition: SharedDefinition, others: tuple[tuple[str, str], ...]) -> _Source:
    text = definition.sql.text
    body = shared_body(definition).strip()
    target = f"{definition.kind.lower()} {definition.name}"
    if definition.kind == "MACRO" and not re.match(r"\s*TABLE\b", _after_as(text), re.IGNORECASE):
        expression = body[len("SELECT "):].strip()
        start = text.rfind(expression)
        prefix = text[:start]
        rebuild = lambda tree: prefix + tree.expressions[0].sql(dialect=DIALECT)  # noqa: E731
    else:
        start = text.rfind(body)
        prefix = text[:start]
        rebuild = lambda tree: prefix + tree.sql(dialect=DIALECT)  # noqa: E731
    return _Source(target, body, definition.sql.file, definition.sql.line + text.count("\n", 0, max(start, 0)),
                   rebuild, definition.name, others)


def _after_as(text: str) -> str:
    match = re.search(r"\)\s*AS\b", text, re.IGNORECASE)
    return text[match.end():] if match else ""


def _parse(text: str) -> exp.Expression | None:
    try:
        return sqlglot.parse_one(text, read=DIALECT)
    except sqlglot.errors.SqlglotError:
        return None


@dataclass(frozen=True)
class _Site:
    """A change at one node (its index in the tree's walk order)."""

    index: int
    kind: str
    before: str
    after: str
    hint: str
    apply: Callable[[exp.Expression], exp.Expression | None]  # the copied node → its replacement (None: removed)


def _sql(node: exp.Expression) -> str:
    text = re.sub(r"\s+", " ", node.sql(dialect=DIALECT))
    return text if len(text) <= SNIPPET else text[: SNIPPET - 1] + "…"


def _sites(tree: exp.Expression, source: _Source, period_swaps: Mapping[str, tuple[str, ...]]) -> Iterator[_Site]:
    """Every change the operators make to the tree, with the kind of case that tells it apart."""
    for index, node in enumerate(tree.walk()):
        if type(node) in COMPARISONS:
            for other in COMPARISONS[type(node)]:
                changed = other(this=node.this.copy(), expression=node.expression.copy())
                yield _Site(index, "comparison", _sql(node), _sql(changed), _comparison_hint(node, other),
                            lambda n, other=other: other(this=n.this, expression=n.expression))
        if isinstance(node, (exp.Where, exp.Having)) or (isinstance(node, exp.Join) and node.args.get("on")):
            clause = "ON" if isinstance(node, exp.Join) else node.key.upper()
            condition = node.args["on"] if isinstance(node, exp.Join) else node.this
            conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
            for position, conjunct in enumerate(conjuncts):
                yield _Site(index, "negated", f"{clause} … {_sql(conjunct)}", f"NOT ({_sql(conjunct)})",
                            f"a row that meets `{_sql(conjunct)}` beside one that does not",
                            lambda n, p=position: _rebuild_condition(n, p, "negate"))
                yield _Site(index, "dropped", f"{clause} … {_sql(conjunct)}", "(dropped)",
                            f"a row that fails only `{_sql(conjunct)}`, which must not count",
                            lambda n, p=position: _rebuild_condition(n, p, "drop"))
        if isinstance(node, (exp.And, exp.Or)):
            other = exp.Or if isinstance(node, exp.And) else exp.And
            word = "OR" if other is exp.Or else "AND"
            yield _Site(index, "and-or", _sql(node), f"… {word} …",
                        f"a row that meets exactly one side of `{_sql(node)}`",
                        lambda n, other=other: other(this=n.this, expression=n.expression))
        # GROUP BY 1 and ORDER BY 1 name a column by its position: not a number to move
        number = None if isinstance(node.parent, (exp.Group, exp.Order, exp.Ordered)) else _number(node)
        if number is not None:
            for step in (1, -1):
                moved = _format_number(number + step)
                yield _Site(index, "literal", _sql(node), moved,
                            f"a row at exactly {_sql(node)} and one a step past it",
                            lambda n, moved=moved: exp.Literal(this=moved, is_string=n.is_string))
        if isinstance(node, exp.Select) and node.args.get("distinct"):
            yield _Site(index, "distinct", "SELECT DISTINCT", "SELECT",
                        "the same row twice (a child with two records that count once)",
                        lambda n: _without(n, "distinct"))
        if isinstance(node, exp.Distinct) and not isinstance(node.parent, exp.Select):
            yield _Site(index, "distinct", _sql(node.parent), "without DISTINCT",
                        "the same value twice (a child with two records that count once)",
                        lambda n: n.expressions[0] if len(n.expressions) == 1 else n)
        if isinstance(node, exp.Union) and node.args.get("distinct"):
            yield _Site(index, "distinct", "UNION", "UNION ALL", "the same row from both sides of the UNION",
                        lambda n: _without(n, "distinct"))
        if isinstance(node, exp.Column) and node.name.lower() in period_swaps and _reads_period(node):
            for neighbour in period_swaps[node.name.lower()]:
                yield _Site(index, "period", _sql(node), f"{node.table}.{neighbour}" if node.table else neighbour,
                            f"a row dated inside the window ({node.name}) but outside {neighbour}'s, or the reverse",
                            lambda n, neighbour=neighbour: _renamed(n, neighbour))
        if isinstance(node, (exp.Add, exp.Sub)) and (isinstance(node.expression, exp.Interval) or isinstance(node.this, exp.Interval)):
            for sign in ("+", "-"):
                yield _Site(index, "interval", _sql(node), f"({_sql(node)}) {sign} 1 day",
                            f"rows a day either side of `{_sql(node)}`",
                            lambda n, sign=sign: (exp.Add if sign == "+" else exp.Sub)(
                                this=exp.Paren(this=n.copy()), expression=exp.Interval(this=exp.Literal.string("1"), unit=exp.Var(this="DAY"))))


def _reads_period(column: exp.Column) -> bool:
    """Whether the column is one of `period`'s: qualified by an alias of `period` in its SELECT, or
    unqualified where `period` is the SELECT's only relation that could hold it."""
    select = column.find_ancestor(exp.Select)
    if select is None:
        return False
    relations = [t for t in select.find_all(exp.Table) if t.find_ancestor(exp.Select) is select]
    aliases = {t.alias_or_name.lower() for t in relations if t.name.lower() == "period"}
    if column.table:
        return column.table.lower() in aliases
    return bool(aliases) and len(relations) == 1


def _comparison_hint(node: exp.Expression, other: type) -> str:
    left, right = _sql(node.this), _sql(node.expression)
    if other in (exp.NEQ, exp.EQ) or (type(node), other) in ((exp.LT, exp.GTE), (exp.LTE, exp.GT), (exp.GT, exp.LTE), (exp.GTE, exp.LT)):
        return f"rows on both sides of `{_sql(node)}`, which must count differently"
    if type(node) is exp.EQ:
        side = "below" if other is exp.LTE else "above"
        return f"a row where {left} is {side} {right}, which must not count"
    return f"a row exactly on the boundary, where {left} equals {right}"


def _rebuild_condition(node: exp.Expression, position: int, how: str) -> exp.Expression | None:
    """The WHERE / HAVING / JOIN with one conjunct of its condition negated or dropped."""
    key = "on" if isinstance(node, exp.Join) else "this"
    condition = node.args[key]
    conjuncts = list(condition.flatten()) if isinstance(condition, exp.And) else [condition]
    if how == "negate":
        conjuncts[position] = exp.Not(this=exp.Paren(this=conjuncts[position]))
    else:
        del conjuncts[position]
    if not conjuncts:
        if isinstance(node, exp.Join):
            node.set("on", exp.true())
            return node
        return None  # a WHERE or HAVING of one condition dropped: no clause at all
    node.set(key, exp.and_(*conjuncts, copy=False) if len(conjuncts) > 1 else conjuncts[0])
    return node


def _number(node: exp.Expression) -> float | None:
    """The value of a numeric literal (an interval's quoted count too), else None."""
    if not isinstance(node, exp.Literal):
        return None
    if node.is_string and not isinstance(node.parent, exp.Interval):
        return None
    try:
        return float(node.this)
    except ValueError:
        return None


def _format_number(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _without(node: exp.Expression, arg: str) -> exp.Expression:
    if isinstance(node, exp.Union):
        node.set("distinct", False)
    else:
        node.set(arg, None)
    return node


def _renamed(column: exp.Column, name: str) -> exp.Column:
    column.set("this", exp.to_identifier(name))
    return column


def _line(node: exp.Expression) -> int:
    """The 1-based line of the node in its text: that of its first token that knows it."""
    for descendant in node.walk():
        line = descendant.meta.get("line") if descendant.meta else None
        if line:
            return line
    parent = node.parent
    return _line(parent) if parent is not None else 1


def _unread(node: exp.Expression, tree: exp.Expression, source: _Source) -> bool:
    """True when the change sits in an output column of a plain SELECT that nothing downstream reads:
    the rows, and so the counts, are the same whatever that column holds."""
    if not isinstance(tree, exp.Select) or tree.args.get("distinct") or tree.args.get("group") or tree.args.get("qualify"):
        return False
    column = node
    while column.parent is not None and column.parent is not tree:
        column = column.parent
    if column.parent is not tree or column.arg_key != "expressions":
        return False
    name = column.alias_or_name.lower()
    if not name or name in ("month", "value", "*"):
        return False
    word = re.compile(rf"\b{re.escape(name)}\b", re.IGNORECASE)
    if len(word.findall(source.text)) > len(word.findall(column.sql(dialect=DIALECT))):  # read elsewhere in the SELECT
        return False
    return not _column_reaches_a_reader(word, source.name, dict(source.others))


_IMPLICIT_USE = re.compile(r"\bdistinct\b|\bgroup\s+by\s+all\b", re.IGNORECASE)


def _column_reaches_a_reader(column: re.Pattern, name: str, texts: Mapping[str, str]) -> bool:
    """Whether some SQL reading `name` (directly, or through others that pass its columns on with `*`)
    names the column, or could use it without naming it (DISTINCT, GROUP BY ALL). Word matches:
    anything that might read the column counts as reading it."""
    pending, passed_on = [name], {name}
    while pending:
        reads = re.compile(rf"\b{re.escape(pending.pop())}\b", re.IGNORECASE)
        for reader, text in texts.items():
            if reader in passed_on or not reads.search(text):
                continue
            if column.search(text) or _IMPLICIT_USE.search(text):
                return True
            if "*" in text:
                passed_on.add(reader)
                pending.append(reader)
    return False


def _period_swaps(indicator: Indicator, first_month: int) -> dict[str, tuple[str, ...]]:
    """For start_date and end_date, the other `period` columns that differ from it in some month under
    the indicator's `collected` (a neighbour equal to it in every month would be the same query)."""
    months = [date(2016 + (m // 12), 1 + m % 12, 1) for m in range(24)]
    rows = period_rows(indicator.collected, months, first_month)
    return {
        column: tuple(n for n in neighbours if any(row[n] != row[column] for row in rows))
        for column, neighbours in PERIOD_NEIGHBOURS.items()
    }


def generate(indicator: Indicator, shared: list[SharedDefinition], first_month: int = 4) -> tuple[list[Mutant], int, int]:
    """The mutants of the indicator's SQL; how many were left out because they change a column it never
    reads; and how many sources sqlglot cannot parse (their mutants cannot be made)."""
    swaps = _period_swaps(indicator, first_month)
    mutants: list[Mutant] = []
    unread = unparsed = 0
    seen: dict[str, int] = {}
    for source in _sources(indicator, shared):
        tree = _parse(source.text)
        if tree is None:
            unparsed += 1
            continue
        original = source.rebuild(tree)
        nodes = list(tree.walk())
        for site in _sites(tree, source, swaps):
            if _unread(nodes[site.index], tree, source):
                unread += 1
                continue
            copied = tree.copy()
            node = list(copied.walk())[site.index]
            replacement = site.apply(node)
            if node is copied:
                copied = replacement
            elif replacement is None:
                node.pop()
            elif replacement is not node:
                node.replace(replacement)
            if copied is None:
                continue
            sql = source.rebuild(copied)
            if sql == original:
                continue
            label = f"{source.target}: `{site.before}` → `{site.after}`"
            seen[label] = seen.get(label, 0) + 1
            if seen[label] > 1:
                label += f" #{seen[label]}"
            where = f"{source.file}:{source.first_line + _line(nodes[site.index]) - 1}"
            mutants.append(Mutant(label, source.target, where, site.hint, sql))
    return mutants, unread, unparsed


def original_sources(indicator: Indicator, shared: list[SharedDefinition]) -> list[tuple[str, str]]:
    """Each source as sqlglot writes it back unchanged: (target, runnable SQL). If the cases fail on
    these, the mutants of that source mean nothing (sqlglot changed what the SQL does)."""
    found = []
    for source in _sources(indicator, shared):
        tree = _parse(source.text)
        if tree is not None:
            found.append((source.target, source.rebuild(tree)))
    return found


# ---------------------------------------------------------------------------------------------------
# Running them


class _Installed:
    """Puts a mutant in place of the real SQL in the connection, and the real SQL back."""

    def __init__(self, con: duckdb.DuckDBPyConnection, indicator: Indicator, shared: list[SharedDefinition]):
        self.con = con
        self.indicator = indicator
        self.by_target = {f"{d.kind.lower()} {d.name}": d for d in shared}

    def indicator_for(self, target: str, sql: str) -> Indicator | str:
        """The indicator as the mutant makes it; a shared mutant is installed (a message if it will not bind)."""
        if target in ("numerator", "denominator"):
            original: Sql = getattr(self.indicator, target)
            return replace(self.indicator, **{target: replace(original, text=sql)})
        try:
            self.con.execute(sql)
        except duckdb.Error as error:
            return str(error)
        return self.indicator

    def restore(self, target: str) -> None:
        if target in self.by_target:
            self.con.execute(self.by_target[target].sql.text)


def _binds(con: duckdb.DuckDBPyConnection, indicator: Indicator) -> bool:
    try:
        for sql in (indicator.numerator, indicator.denominator):
            if sql is not None:
                columns_of(con, sql.text)
    except duckdb.Error:
        return False
    return True


def run_mutants(
    indicator: Indicator, tables: Mapping[str, Table], shared: list[SharedDefinition], first_month: int = 4,
    con: duckdb.DuckDBPyConnection | None = None,
) -> MutantsResult:
    """Every mutant of the indicator against its cases: killed, killed by the compiler, allowed as
    equivalent, or surviving. Each case's rows are loaded once and every live mutant runs on them."""
    if not indicator.tests:
        return MutantsResult(indicator, error="it has no cases: write some under `tests:` first")
    problem = refused(indicator)
    if problem:
        return MutantsResult(indicator, error=problem)
    own = con is None
    if own:
        con, problems = open_case_database(tables, shared)
        if problems:
            con.close()
            return MutantsResult(indicator, error="; ".join(str(p) for p in problems))
    try:
        return _run(con, indicator, tables, shared, first_month)
    finally:
        if own:
            con.close()


def _run(
    con: duckdb.DuckDBPyConnection, indicator: Indicator, tables: Mapping[str, Table],
    shared: list[SharedDefinition], first_month: int,
) -> MutantsResult:
    mutants, unread, unparsed = generate(indicator, shared, first_month)
    installer = _Installed(con, indicator, shared)
    alive = list(mutants)
    compiler = 0
    for case in indicator.tests:
        problems = load_case(con, indicator, case, tables)
        if problems:
            return MutantsResult(indicator, error="; ".join(problems))
        differences, error = check_case(con, indicator, case, tables, shared, first_month)
        if differences or error:
            return MutantsResult(indicator, error=f"case `{case.name}` fails on the real SQL: run `kpi test` and fix it first")
        # sqlglot writes each source back; if that alone fails the case, its mutants prove nothing.
        for target, sql in original_sources(indicator, shared):
            verdict = _verdict(con, installer, target, sql, case, tables, shared, first_month)
            if verdict != "survived":
                return MutantsResult(indicator, error=f"sqlglot does not write {target} back as it was: "
                                                      "its mutants cannot be trusted (report this as a bug)")
        still = []
        for mutant in alive:
            verdict = _verdict(con, installer, mutant.target, mutant.sql, case, tables, shared, first_month)
            if verdict == "compiler":
                compiler += 1
            elif verdict == "survived":
                still.append(mutant)
        alive = still
        if not alive:
            break
    if unparsed:
        return MutantsResult(indicator, error=f"sqlglot cannot parse {unparsed} of its queries, views or macros")
    allowed = {a.mutant: a for a in indicator.allowed_mutants}
    equivalent = tuple((m, allowed[m.name]) for m in alive if m.name in allowed)
    survivors = tuple(m for m in alive if m.name not in allowed)
    names = {m.name for m in alive}
    stale = tuple(a for a in indicator.allowed_mutants if a.mutant not in names)
    return MutantsResult(indicator, len(mutants), len(mutants) - compiler - len(alive), compiler, unread,
                         equivalent, survivors, stale)


def _verdict(
    con: duckdb.DuckDBPyConnection, installer: _Installed, target: str, sql: str, case: TestCase,
    tables: Mapping[str, Table], shared: list[SharedDefinition], first_month: int,
) -> str:
    """killed | compiler | survived, for one mutant on the rows of one case."""
    mutated = installer.indicator_for(target, sql)
    try:
        if isinstance(mutated, str):
            return "compiler"
        install_period(con, period_rows(mutated.collected, [case.period], first_month))
        if not _binds(con, mutated):
            return "compiler"
        differences, error = check_case(con, mutated, case, tables, shared, first_month)
        return "killed" if differences or error else "survived"
    finally:
        installer.restore(target)


# ---------------------------------------------------------------------------------------------------
# Many indicators, a process per core


_WORKER: dict = {}


def _worker_start(root: str) -> None:
    from kpi import pipeline
    from kpi.config import open_project

    project = open_project(Path(root))
    definitions = pipeline.load_definitions(project)
    con, _ = open_case_database(definitions.tables, list(definitions.shared))
    _WORKER.update(definitions=definitions, con=con, first_month=project.config.fy_start_month)


def _worker_run(indicator_id: str) -> tuple[str, dict]:
    definitions = _WORKER["definitions"]
    indicator = next(i for i in definitions.indicators if i.id == indicator_id)
    result = run_mutants(indicator, definitions.tables, list(definitions.shared), _WORKER["first_month"], _WORKER["con"])
    return indicator_id, _as_plain(result)


def _as_plain(result: MutantsResult) -> dict:
    """A result without its indicator, to cross from a worker process (an Indicator holds mapping proxies)."""
    return {
        "total": result.total, "killed": result.killed, "compiler": result.compiler, "unread": result.unread,
        "equivalent": [(m, a) for m, a in result.equivalent], "survivors": list(result.survivors),
        "stale": list(result.stale), "error": result.error,
    }


def run_all(
    indicators: Iterable[Indicator], tables: Mapping[str, Table], shared: list[SharedDefinition],
    first_month: int = 4, root: Path | None = None, workers: int | None = None,
) -> list[MutantsResult]:
    """The mutants of every indicator given, in their order. With the project's `root`, and more than
    one core, indicators run in parallel, a process per core, each with its one connection."""
    indicators = list(indicators)
    workers = workers if workers is not None else min(os.cpu_count() or 1, len(indicators))
    if root is None or workers <= 1 or len(indicators) < 2:
        con, problems = open_case_database(tables, shared)
        try:
            if problems:
                return [MutantsResult(i, error="; ".join(str(p) for p in problems)) for i in indicators]
            return [run_mutants(i, tables, shared, first_month, con) for i in indicators]
        finally:
            con.close()
    import multiprocessing

    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no DuckDB state crosses a fork
    by_id = {i.id: i for i in indicators}
    # The slowest first, so that no process is left with a long one at the end.
    order = sorted(by_id, key=lambda i: -len(by_id[i].tests))
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_start, initargs=(str(root),)) as pool:
        done = dict(pool.map(_worker_run, order))
    return [MutantsResult(by_id[i], **done[i]) for i in by_id]


# ---------------------------------------------------------------------------------------------------
# The report


def report_text(results: Iterable[MutantsResult]) -> str:
    """`kpi test --mutants`: per indicator its counts, then each survivor with where it is and the case
    that would kill it, each stale allowance; then the totals."""
    lines: list[str] = []
    totals = {"total": 0, "killed": 0, "compiler": 0, "equivalent": 0, "survived": 0, "unread": 0}
    failing = []
    for result in results:
        indicator = result.indicator
        if result.error:
            failing.append(indicator.id)
            lines.append(f"ERROR {indicator.id}: {result.error}")
            continue
        totals["total"] += result.total
        totals["killed"] += result.killed
        totals["compiler"] += result.compiler
        totals["equivalent"] += len(result.equivalent)
        totals["survived"] += len(result.survivors)
        totals["unread"] += result.unread
        status = "pass " if result.passed else "FAIL "
        lines.append(f"{status} {indicator.id}: {result.killed} of {result.total} mutants killed, "
                     f"{result.compiler} by the compiler, {len(result.equivalent)} allowed as equivalent, "
                     f"{len(result.survivors)} survived ({result.unread} change a column it never reads)")
        if not result.passed:
            failing.append(indicator.id)
        for mutant in result.survivors:
            lines.append(f"        survived: {mutant.name}")
            lines.append(f"          at {mutant.where}; a case that kills it: {mutant.hint}")
        for allowed in result.stale:
            lines.append(f"        allowed but no such mutant survives ({indicator.path.name}:{allowed.line}): "
                         f"{allowed.mutant}; remove it from `mutants: allow:`")
    lines.append(f"{totals['total']} mutants: {totals['killed']} killed by the cases, {totals['compiler']} by the compiler, "
                 f"{totals['equivalent']} allowed as equivalent, {totals['survived']} survived; "
                 f"{totals['unread']} not run (a column never read)")
    if failing:
        lines.append(f"indicators with survivors or errors: {', '.join(failing)}")
    return "".join(line + "\n" for line in lines)

