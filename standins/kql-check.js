// Checks KQL queries with Microsoft's own Kusto parser and binder (npm
// `@kusto/language-service-next`, Kusto.Language compiled to JavaScript; installed by
// scripts/install-tools into .tools/kusto), against the columns of the Application Insights
// tables the queries read. Offline: nothing is sent anywhere.
//
//   node standins/kql-check.js < queries.json
//
// stdin: a JSON object {name: query}. stdout: a JSON object {name: [problem, ...]}; an empty
// list means the query parses and every name in it binds (an unknown column, a misspelt
// operator or function, a wrong argument type are problems).
"use strict";

const fs = require("fs");
const path = require("path");

const lib = path.resolve(__dirname, "..", ".tools/kusto/node_modules/@kusto/language-service-next");
require(path.join(lib, "bridge.min.js"));
require(path.join(lib, "Kusto.Language.Bridge.min.js"));
const L = globalThis.Kusto.Language;
const S = L.Symbols;

// The Application Insights (classic) tables the template's queries read, with the columns they
// use and their documented types.
// https://learn.microsoft.com/azure/azure-monitor/app/data-model-complete
const TABLES = {
  traces:
    "(timestamp:datetime, message:string, severityLevel:int, itemType:string, customDimensions:dynamic," +
    " operation_Name:string, operation_Id:string, cloud_RoleName:string, cloud_RoleInstance:string)",
  requests:
    "(timestamp:datetime, id:string, name:string, success:bool, resultCode:string, duration:real," +
    " itemType:string, customDimensions:dynamic, operation_Name:string, operation_Id:string," +
    " cloud_RoleName:string, cloud_RoleInstance:string)",
};

const tables = Object.entries(TABLES).map(([name, schema]) => new S.TableSymbol.$ctor7(name, schema, ""));
const database = new S.DatabaseSymbol.ctor("insights", tables);
const globals = L.GlobalState.Default.WithCluster(new S.ClusterSymbol.ctor("insights", [database])).WithDatabase(database);

function problems(query) {
  const diagnostics = L.KustoCode.ParseAndAnalyze(query, globals).GetDiagnostics();
  const found = [];
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    found.push(`${d.Severity} at ${d.Start}: ${d.Message} (near ${JSON.stringify(query.slice(d.Start, d.Start + 30))})`);
  }
  return found;
}

const queries = JSON.parse(fs.readFileSync(0, "utf8"));
const result = {};
for (const [name, query] of Object.entries(queries)) {
  result[name] = problems(query);
}
process.stdout.write(JSON.stringify(result));
