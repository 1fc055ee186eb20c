"""Every KQL query in infra/main.bicep, checked with Microsoft's own Kusto parser.

This machine cannot reach Azure Monitor, so the log alerts' and the workbook's queries are
checked offline by Kusto.Language (npm `@kusto/language-service-next`, in .tools/kusto from
scripts/install-tools), through standins/kql-check.js: each must parse and bind against the
columns of Application Insights' `traces` and `requests`. The coverage traces' format, the one
the app writes and the queries parse, is the README's, checked here too.
"""

from __future__ import annotations

import json
import re
import subprocess

from standins.functions_host import ROOT
from tests.deployment.test_ci_workflow import BICEP, outer_alerts
from tests.deployment.test_deployment import README, bicep_string

CHECK = ROOT / "standins" / "kql-check.js"
# The parse-kv keys and types, in the order of the trace: the contract with the app.
KEYS = (
    "tenant:string, metric:string, count:long, total:long, ratio:real, threshold:real, "
    "maximum:long, state:string, source:string"
)


def kql_problems(queries: dict[str, str]) -> dict[str, list[str]]:
    result = subprocess.run(
        ["node", str(CHECK)],
        input=json.dumps(queries),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    problems: dict[str, list[str]] = json.loads(result.stdout)
    return problems


def template_queries() -> dict[str, str]:
    """The template's queries: every `var …Query` (the workbook's, the coverage alert's) and
    each outer-watch alert's."""
    names = re.findall(r"^var (\w+Query) = '", BICEP, re.M)
    queries = {name: bicep_string(name) for name in names}
    for key, entry in outer_alerts().items():
        queries[key] = re.search(r"query: '(.*)'", entry).group(1)  # type: ignore[union-attr]
    return queries


def test_every_query_in_the_template_parses_and_binds_against_application_insights() -> None:
    queries = template_queries()

    assert {"coverageAlertQuery", "coverageChartQuery", "healthQuery", "poison-check"} <= set(
        queries
    )
    assert kql_problems(queries) == {name: [] for name in queries}


def test_the_checker_reports_an_unknown_column_and_a_syntax_error() -> None:
    problems = kql_problems(
        {
            "column": 'traces | where mesage startswith "coverage "',
            "syntax": "requests | summarize count() by",
            "fine": "requests | summarize failures = countif(success == false) by name",
        }
    )

    assert any("mesage" in p for p in problems["column"]), problems
    assert problems["syntax"], problems
    assert problems["fine"] == []


def test_the_coverage_traces_are_parsed_with_the_documented_keys() -> None:
    traces = bicep_string("coverageTraces")

    assert traces == (
        'traces | where message startswith "coverage " '
        f"| parse-kv message as ({KEYS}) "
        'with (pair_delimiter=" ", kv_delimiter="=")'
    )


def test_the_readme_documents_the_trace_format_and_the_template_s_query() -> None:
    section = README[
        README.index("## See coverage in Azure Monitor") : README.index("## Development")
    ]
    documented = re.search(r"^coverage tenant=.*$", section, re.M)

    assert documented, "the README shows a coverage trace"
    keys = [pair.split("=")[0] for pair in documented.group(0).split(" ")[1:]]
    assert keys == [key.split(":")[0] for key in KEYS.split(", ")]
    # The sample query is the template's, one operator per line.
    query = re.search(r"```kusto\n(traces\n.*?)```", section, re.S)
    assert query, "the README has a sample query"
    lines = [line.strip() for line in query.group(1).strip().splitlines()]
    assert " ".join(lines).startswith(bicep_string("coverageTraces"))
    assert kql_problems({"readme": query.group(1)}) == {"readme": []}
    for parameter in ("coverageAlert",):
        assert f"`{parameter}`" in section
