// Entra registration monitor: everything the Function App needs, in one resource group.
//
// Creates: a Linux Function App for Python (Flex Consumption by default, or Consumption) with a
// managed identity; a storage account used only through that identity (shared keys off); a Key
// Vault holding the Teams webhook; Application Insights on a Log Analytics workspace; the app
// settings the code reads; and the outer watch, sent to the action group you name: an alert
// when FetchReport, or CheckThresholds, has not succeeded for 26 hours, and one when a check
// fails for good (its message reaches the poison queue). That channel still works when Teams
// does not, and so does the coverage alert beside it: a metric whose latest check fired.
// Application Insights takes Entra-authenticated telemetry only (the app's identity, with
// Monitoring Metrics Publisher); a workbook charts coverage, alert states and the monitor's health.
//
// Not created here: Microsoft Graph's Reports.Read.All for the identity (an Entra app role, not
// an Azure role): run infra/grant-reports-read-all.sh with the principalId output afterwards.
//
// This file was written and scanned (checkov) on a machine that cannot compile Bicep or reach
// Azure; the workflow's `bicep` job compiles and lints it (`az bicep build`, `az bicep lint`) on
// GitHub's runners. Run `az bicep build --file infra/main.bicep` before the first deployment.
// No secret is ever output: the webhook goes into Key Vault and the app reads a reference to it.

@description('Short lowercase name that starts every resource name (letters and digits).')
@minLength(3)
@maxLength(11)
param namePrefix string = 'entracov'

param location string = resourceGroup().location

@description('FlexConsumption where the region offers it; Consumption (Linux, Y1) otherwise.')
@allowed(['FlexConsumption', 'Consumption'])
param hostingPlan string = 'FlexConsumption'

@description('Python on Azure Functions. Default: 3.13 on Flex Consumption; 3.12 on Consumption, whose Linux plan gets no new language versions (3.13 is not offered there).')
@allowed(['3.11', '3.12', '3.13'])
param pythonVersion string = hostingPlan == 'FlexConsumption' ? '3.13' : '3.12'

@description('Optional: the resource id of a user-assigned identity to use instead of a system-assigned one.')
param userAssignedIdentityResourceId string = ''

@description('FETCH_SCHEDULE: 6-field NCRONTAB, UTC.')
param fetchSchedule string = '0 0 6 * * *'

@description('DIGEST_SCHEDULE: when the weekly digest is posted, 6-field NCRONTAB, UTC (Mondays 08:00). Empty turns the digest off.')
param digestSchedule string = '0 0 8 * * 1'

@description('CARD_VERSION: 1.4 renders in every Teams client; 1.5 adds a 30-day line chart, which Workflows-posted cards do not show everywhere (a text stands in).')
@allowed(['1.4', '1.5'])
param cardVersion string = '1.4'

@description('THRESHOLDS: comma-separated status=minimum, as a ratio or a percentage.')
param thresholds string = 'mfaRegistered=95%,capable=90%'

@description('GRAPH_ENDPOINT: https://graph.microsoft.com, or a national cloud\'s.')
param graphEndpoint string = 'https://graph.microsoft.com'

@description('ALERT_REPEAT_HOURS: how often a still-failing metric is announced again.')
param alertRepeatHours string = '24'

@description('DROP_ALERT_POINTS: announce a fall of this many points; empty turns it off.')
param dropAlertPoints string = ''

@description('The Teams Workflows webhook URL. A secret: stored in Key Vault, never output. Empty keeps the secret already in Key Vault (a redeploy without it changes nothing); on a first deployment without it the app reports the unresolved Key Vault reference until you add the secret.')
@secure()
param teamsWebhookUrl string = ''

@description('REPORT_SOURCE: auto (the beta report until it is gone, then v1.0), beta, or v1 (userRegistrationDetails, needs AuditLog.Read.All).')
@allowed(['auto', 'beta', 'v1'])
param reportSource string = 'auto'

@description('INCLUDE_GUESTS: v1.0 source only; false counts members only.')
param includeGuests bool = true

@description('EXCLUDE_USERS: v1.0 source only; object ids or UPNs (comma-separated) left out of every metric, e.g. break-glass accounts.')
param excludeUsers string = ''

@description('ALERT_NAME_ADMINS: v1.0 source only; true lets the adminsWithoutMfa card name a few of them.')
param alertNameAdmins bool = false

@description('CHECK_ENFORCEMENT: true also reads, on each fetch, whether security defaults or Conditional Access enforce MFA. Needs the Graph application permission Policy.Read.All (infra/grant-reports-read-all.sh --enforcement).')
param checkEnforcement bool = false

@description('ENFORCEMENT_MAX_EXCLUSIONS: with checkEnforcement, the most users, groups and roles the enforcing policy may exclude (2: two break-glass accounts).')
@minValue(0)
param enforcementMaxExclusions int = 2

@description('ALERTS_TO_LOG_ONLY: true to log alerts instead of posting them to Teams (then no webhook is used). Without it, the app refuses to run in Azure with no webhook.')
param alertsToLogOnly bool = false

@description('The resource id of the action group that the outer watch ("no successful FetchReport in 26 hours" and the others) and the coverage alert notify.')
param actionGroupResourceId string

@description('COVERAGE ALERT: true adds a log alert, to the action group, for each metric whose latest check (in the last 26 hours) fired; it needs no Teams. false leaves it out (the outer watch stays).')
param coverageAlert bool = true

@description('TENANTS: the customer tenant ids to watch, comma-separated (empty: only the app\'s own tenant). Needs multiTenantAppId. README: Many tenants.')
param tenants string = ''

@description('MULTI_TENANT_APP_ID: the client id of the multi-tenant app registration whose federated identity credential is this app\'s managed identity (required with tenants).')
param multiTenantAppId string = ''

@description('The most instances the app scales out to (Flex maximumInstanceCount; Consumption functionAppScaleLimit). Also MAX_INSTANCE_COUNT: each instance takes that share of Graph\'s 122 requests per 10 s across tenants.')
@minValue(1)
param maximumInstanceCount int = 40

var isFlex = hostingPlan == 'FlexConsumption'
var useUserAssigned = !empty(userAssignedIdentityResourceId)
var suffix = uniqueString(resourceGroup().id, namePrefix)
var appName = '${namePrefix}-${suffix}'
var storageName = take(toLower('${namePrefix}${suffix}'), 24)
var vaultName = take(toLower('kv${namePrefix}${suffix}'), 24)
var packageContainer = 'app-package'
var webhookSecretName = 'teams-webhook-url'

// Built-in role definition ids (the same in every tenant).
var roles = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88'
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6'
  monitoringMetricsPublisher: '3913510d-42f4-4e42-8a64-420c390055eb'
}

// ---- Identity -----------------------------------------------------------------------------

var noIdentity = { principalId: '', clientId: '' }
var userAssigned = useUserAssigned ? reference(userAssignedIdentityResourceId, '2023-01-31') : noIdentity
var principalId = useUserAssigned ? userAssigned.principalId : functionApp.identity.principalId
// Role assignment names must be known when the deployment starts, which a system-assigned
// principal id is not: they are keyed by the identity's resource id instead, so that switching
// between system- and user-assigned creates new assignments rather than failing to update one.
var identityKey = useUserAssigned ? userAssignedIdentityResourceId : functionApp.id

// ---- Storage: identity only ---------------------------------------------------------------

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  //checkov:skip=CKV_AZURE_35:Consumption and Flex apps without a virtual network reach storage over public endpoints; access is by Entra ID only (shared keys off)
  //checkov:skip=CKV_AZURE_59:as CKV_AZURE_35
  //checkov:skip=CKV_AZURE_206:LRS is enough: snapshots are re-fetched daily and alert state rebuilds itself
  //checkov:skip=CKV_AZURE_43:the name is computed (toLower, take 24) from namePrefix and uniqueString, which checkov cannot evaluate
  name: storageName
  location: location
  kind: 'StorageV2'
  sku: { name: 'Standard_LRS' }
  properties: {
    allowSharedKeyAccess: false
    defaultToOAuthAuthentication: true
    allowBlobPublicAccess: false
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    publicNetworkAccess: 'Enabled' // Consumption plans have no fixed outbound addresses
  }

  resource blobs 'blobServices' = {
    name: 'default'
    properties: {
      deleteRetentionPolicy: { enabled: true, days: 7 }
    }

    resource package 'containers' = {
      name: packageContainer
    }
  }
}

resource storageRoles 'Microsoft.Authorization/roleAssignments@2022-04-01' = [
  for role in [roles.storageBlobDataOwner, roles.storageQueueDataContributor, roles.storageTableDataContributor]: {
    name: guid(storage.id, identityKey, role)
    scope: storage
    properties: {
      roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
      principalId: principalId
      principalType: 'ServicePrincipal'
    }
  }
]

// ---- Key Vault: the webhook ---------------------------------------------------------------

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  //checkov:skip=CKV_AZURE_109:Key Vault references from Consumption and Flex apps without a virtual network come from shared outbound addresses; access is by Azure RBAC only
  //checkov:skip=CKV_AZURE_189:as CKV_AZURE_109
  name: vaultName
  location: location
  properties: {
    tenantId: subscription().tenantId
    sku: { family: 'A', name: 'standard' }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 7
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled' // Key Vault references from a Consumption app come from shared addresses
  }
}

resource webhookSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(teamsWebhookUrl)) {
  //checkov:skip=CKV_AZURE_41:a Workflows webhook URL does not expire; rotate it by recreating the flow and redeploying
  //checkov:skip=CKV_AZURE_114:contentType is set below; checkov does not read conditional resources
  parent: vault
  name: webhookSecretName
  properties: {
    value: teamsWebhookUrl
    contentType: 'Teams Workflows webhook URL'
  }
}

resource vaultRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(vault.id, identityKey, roles.keyVaultSecretsUser)
  scope: vault
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.keyVaultSecretsUser)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// ---- Monitoring ---------------------------------------------------------------------------

resource workspace 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: '${namePrefix}-logs-${suffix}'
  location: location
  properties: {
    sku: { name: 'PerGB2018' }
    retentionInDays: 30
    features: { disableLocalAuth: true } // no workspace keys: nothing writes here but Azure Monitor
  }
}

// Entra-authenticated telemetry only: the connection string names where to send, but no longer
// lets anyone who holds it send. The app authenticates with its identity
// (APPLICATIONINSIGHTS_AUTHENTICATION_STRING below) and needs Monitoring Metrics Publisher here,
// which, despite its name, covers every kind of telemetry.
// https://learn.microsoft.com/azure/azure-monitor/app/azure-ad-authentication
resource insights 'Microsoft.Insights/components@2020-02-02' = {
  name: '${namePrefix}-insights-${suffix}'
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: workspace.id
    DisableLocalAuth: true
  }
}

resource insightsRole 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(insights.id, identityKey, roles.monitoringMetricsPublisher)
  scope: insights
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.monitoringMetricsPublisher)
    principalId: principalId
    principalType: 'ServicePrincipal'
  }
}

// The outer watch: a stopped or broken app cannot report itself, and a dead webhook cannot
// carry its own alert. Every hour; the "no success" queries look back 26 hours (a daily run plus
// two hours of slack for retries and late data) inside a 2-day window, the longest a log alert
// allows. `summarize` without `by` always returns one row, so "no runs at all" counts as 0.
var outerAlerts = [
  {
    key: 'no-successful-fetch'
    displayName: 'Entra registration monitor: no successful FetchReport in 26 hours'
    description: 'FetchReport has not succeeded for 26 hours: coverage is not being fetched. Check the Function App and its logs.'
    query: 'requests | where timestamp > ago(26h) | where name == "FetchReport" and success == true | summarize successes = count()'
    measure: 'successes'
    operator: 'LessThan'
    threshold: 1
    windowSize: 'P2D'
  }
  {
    key: 'no-successful-check'
    displayName: 'Entra registration monitor: no successful CheckThresholds in 26 hours'
    description: 'CheckThresholds has not succeeded for 26 hours: coverage is not being checked or alerts cannot reach Teams. Check the Function App logs and the Teams workflow.'
    query: 'requests | where timestamp > ago(26h) | where name == "CheckThresholds" and success == true | summarize successes = count()'
    measure: 'successes'
    operator: 'LessThan'
    threshold: 1
    windowSize: 'P2D'
  }
  {
    key: 'poison-check'
    displayName: 'Entra registration monitor: a check failed for good (poison queue)'
    description: 'A CheckThresholds message failed every retry and moved to snapshots-to-check-poison: an alert may not have reached Teams. Check the logs (a dead Teams workflow is logged as such).'
    query: 'traces | where timestamp > ago(2h) | where message has "snapshots-to-check-poison" | summarize poisoned = count()'
    measure: 'poisoned'
    operator: 'GreaterThan'
    threshold: 0
    windowSize: 'PT2H'
  }
]

resource outerAlert 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = [
  for alert in outerAlerts: {
    name: '${appName}-${alert.key}'
    location: location
    kind: 'LogAlert'
    properties: {
      displayName: alert.displayName
      description: alert.description
      severity: 1
      enabled: true
      scopes: [insights.id]
      evaluationFrequency: 'PT1H'
      windowSize: alert.windowSize
      criteria: {
        allOf: [
          {
            query: alert.query
            timeAggregation: 'Total'
            metricMeasureColumn: alert.measure
            operator: alert.operator
            threshold: alert.threshold
            failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
          }
        ]
      }
      autoMitigate: true
      actions: { actionGroups: [actionGroupResourceId] }
    }
  }
]

// ---- Coverage in Azure Monitor ----------------------------------------------------------

// Each check logs one trace per metric, `key=value` pairs separated by single spaces (README,
// "See coverage in Azure Monitor"):
//   coverage tenant=<id> metric=<name> count=<n> total=<n> ratio=<0..1|none>
//     threshold=<0..1|none> maximum=<n|none> state=<ok|firing|unchecked> source=<api>
// parse-kv turns them into typed columns; "none" reads as null.
// https://learn.microsoft.com/kusto/query/parse-kv-operator
var coverageTraces = 'traces | where message startswith "coverage " | parse-kv message as (tenant:string, metric:string, count:long, total:long, ratio:real, threshold:real, maximum:long, state:string, source:string) with (pair_delimiter=" ", kv_delimiter="=")'

// The latest trace of each metric in the last 26 hours (a daily check plus two hours of slack,
// as the outer watch): one alert per tenant and metric (dimensions) while its latest check
// fired, resolved by the first check that does not. No check at all is the outer watch's
// business (no successful CheckThresholds), not this alert's.
var coverageAlertQuery = '${coverageTraces} | where timestamp > ago(26h) | summarize arg_max(timestamp, state, ratio, threshold, maximum, count, total) by tenant, metric | where state == "firing" | extend firing = 1'

resource coverageRule 'Microsoft.Insights/scheduledQueryRules@2023-12-01' = if (coverageAlert && !empty(actionGroupResourceId)) {
  name: '${appName}-coverage-firing'
  location: location
  kind: 'LogAlert'
  properties: {
    displayName: 'Entra registration monitor: a metric is below its threshold (or above its maximum)'
    description: 'The latest check of a metric fired (state=firing in its coverage trace): MFA or SSPR registration coverage needs attention. The dimensions name the tenant and the metric; the workbook shows its history. Works without Teams.'
    severity: 2
    enabled: true
    scopes: [insights.id]
    evaluationFrequency: 'PT1H'
    windowSize: 'P2D' // the query's own 26 hours decide; the window only has to contain them
    criteria: {
      allOf: [
        {
          query: coverageAlertQuery
          timeAggregation: 'Total'
          metricMeasureColumn: 'firing'
          operator: 'GreaterThan'
          threshold: 0
          dimensions: [
            { name: 'tenant', operator: 'Include', values: ['*'] }
            { name: 'metric', operator: 'Include', values: ['*'] }
          ]
          failingPeriods: { numberOfEvaluationPeriods: 1, minFailingPeriodsToAlert: 1 }
        }
      ]
    }
    autoMitigate: true
    actions: { actionGroups: [actionGroupResourceId] }
  }
}

// The workbook's queries. Percentages for the chart: coverage and its threshold per metric.
var coverageChartQuery = '${coverageTraces} | where isnotnull(ratio) | project timestamp, series = metric, percent = round(100 * ratio, 1) | union (${coverageTraces} | where isnotnull(threshold) | project timestamp, series = strcat(metric, " threshold"), percent = round(100 * threshold, 1)) | order by timestamp asc'
var alertStatesQuery = '${coverageTraces} | summarize arg_max(timestamp, state, ratio, threshold, maximum, count, total, source) by tenant, metric | project metric, state, coverage = iff(isnull(ratio), "", strcat(round(100 * ratio, 1), "%")), threshold = iff(isnull(threshold), "", strcat(round(100 * threshold, 1), "%")), maximum, count, total, source, checked = timestamp, tenant | order by state asc, metric asc'
var stateHistoryQuery = '${coverageTraces} | summarize metrics = dcount(metric) by bin(timestamp, 1d), state | order by timestamp asc'
var healthQuery = 'requests | where name in ("FetchReport", "ContinueFetch", "CheckThresholds", "WeeklyDigest") | summarize runs = count(), failures = countif(success == false), last_run = max(timestamp), last_success = maxif(timestamp, success == true), last_failure = maxif(timestamp, success == false) by function = name | order by function asc'
var failuresQuery = 'requests | where name in ("FetchReport", "ContinueFetch", "CheckThresholds", "WeeklyDigest") | summarize failures = countif(success == false) by bin(timestamp, 1d), name | order by timestamp asc'
var poisonQuery = 'traces | where message has "snapshots-to-check-poison" | project timestamp, message | order by timestamp desc'

var workbookQueries = [
  {
    name: 'coverage'
    title: 'Coverage per metric, with its threshold (%)'
    query: coverageChartQuery
    visualization: 'timechart'
  }
  {
    name: 'alert-states'
    title: 'Alert states: the latest check of each metric'
    query: alertStatesQuery
    visualization: 'table'
  }
  {
    name: 'state-history'
    title: 'Metrics per state, per day'
    query: stateHistoryQuery
    visualization: 'barchart'
  }
  {
    name: 'health'
    title: 'The monitor\'s health: last run, last success and failures per function'
    query: healthQuery
    visualization: 'table'
  }
  {
    name: 'failures'
    title: 'Failed runs per day'
    query: failuresQuery
    visualization: 'barchart'
  }
  {
    name: 'poison'
    title: 'Checks that failed for good (poison queue)'
    query: poisonQuery
    visualization: 'table'
  }
]

// Workbook JSON (Notebook/1.0): a text, a time range parameter, then one Logs query per item,
// run against this Application Insights resource.
var workbookHeader = [
  {
    type: 1
    name: 'about'
    content: {
      json: '## Entra registration coverage\nFrom the coverage traces that every check writes (one per metric: `coverage tenant=… metric=… ratio=… threshold=… state=…`) and the functions\' runs. The coverage alert fires on the same traces.'
    }
  }
  {
    type: 9
    name: 'parameters'
    content: {
      version: 'KqlParameterItem/1.0'
      parameters: [
        {
          id: 'a4c5f0de-6e7b-4d0a-9c35-0b8f6a1d2e31'
          version: 'KqlParameterItem/1.0'
          name: 'TimeRange'
          label: 'Time range'
          type: 4
          isRequired: true
          value: { durationMs: 2592000000 } // 30 days, the workspace's retention
          typeSettings: {
            selectableValues: [
              { durationMs: 86400000 }
              { durationMs: 604800000 }
              { durationMs: 1209600000 }
              { durationMs: 2592000000 }
            ]
          }
        }
      ]
    }
  }
]
var workbookQueryItems = [
  for item in workbookQueries: {
    type: 3
    name: item.name
    content: {
      version: 'KqlItem/1.0'
      title: item.title
      query: item.query
      queryType: 0 // Logs
      resourceType: 'microsoft.insights/components'
      timeContextFromParameter: 'TimeRange'
      timeContext: { durationMs: 2592000000 }
      visualization: item.visualization
      size: 0
    }
  }
]
var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(workbookHeader, workbookQueryItems)
  fallbackResourceIds: [insights.id]
  '$schema': 'https://github.com/Microsoft/Application-Insights-Workbooks/blob/master/schema/workbook.json'
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(insights.id, 'coverage-workbook') // a workbook's name must be a GUID
  location: location
  kind: 'shared'
  properties: {
    displayName: 'Entra registration coverage (${appName})'
    category: 'workbook'
    version: 'Notebook/1.0'
    sourceId: insights.id
    serializedData: string(workbookContent)
  }
}

// ---- The Function App ---------------------------------------------------------------------

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  //checkov:skip=CKV_AZURE_225:zone redundancy is not offered for Consumption plans; a daily job needs none
  name: '${namePrefix}-plan-${suffix}'
  location: location
  kind: 'functionapp'
  sku: isFlex ? { name: 'FC1', tier: 'FlexConsumption' } : { name: 'Y1', tier: 'Dynamic' }
  properties: { reserved: true } // Linux
}

var userAssignedSettings = [
  { name: 'AZURE_CLIENT_ID', value: userAssigned.clientId }
  { name: 'AzureWebJobsStorage__credential', value: 'managedidentity' }
  { name: 'AzureWebJobsStorage__clientId', value: userAssigned.clientId }
]
var identitySettings = useUserAssigned ? userAssignedSettings : []

var packageIdentity = useUserAssigned ? userAssignedIdentityResourceId : 'SystemAssigned'

// Flex Consumption sets its runtime in functionAppConfig and refuses these settings. On
// Consumption the app runs the zip in the package container, fetched with the identity.
var runtimeSettings = [
  { name: 'FUNCTIONS_EXTENSION_VERSION', value: '~4' }
  { name: 'FUNCTIONS_WORKER_RUNTIME', value: 'python' }
  { name: 'WEBSITE_RUN_FROM_PACKAGE', value: '${storage.properties.primaryEndpoints.blob}${packageContainer}/app.zip' }
  { name: 'WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID', value: packageIdentity }
]
var consumptionSettings = isFlex ? [] : runtimeSettings

var commonSettings = [
  { name: 'AzureWebJobsStorage__accountName', value: storage.name }
  { name: 'APPLICATIONINSIGHTS_CONNECTION_STRING', value: insights.properties.ConnectionString }
  // The documented values: Authorization=AAD for the system-assigned identity, with the client
  // id for a user-assigned one. Without it the host would send with the key, which is refused.
  // https://learn.microsoft.com/azure/azure-functions/functions-app-settings#applicationinsights_authentication_string
  { name: 'APPLICATIONINSIGHTS_AUTHENTICATION_STRING', value: useUserAssigned ? 'Authorization=AAD;ClientId=${userAssigned.clientId}' : 'Authorization=AAD' }
  { name: 'FETCH_SCHEDULE', value: fetchSchedule }
  // An empty digestSchedule turns the digest off by disabling the function (the documented
  // switch), while DIGEST_SCHEDULE keeps a valid expression: the host may refuse to index a
  // timer whose schedule is empty.
  { name: 'DIGEST_SCHEDULE', value: empty(digestSchedule) ? '0 0 8 * * 1' : digestSchedule }
  { name: 'AzureWebJobs.WeeklyDigest.Disabled', value: string(empty(digestSchedule)) }
  { name: 'CARD_VERSION', value: cardVersion }
  { name: 'THRESHOLDS', value: thresholds }
  { name: 'GRAPH_ENDPOINT', value: graphEndpoint }
  { name: 'ALERT_REPEAT_HOURS', value: alertRepeatHours }
  { name: 'DROP_ALERT_POINTS', value: dropAlertPoints }
  { name: 'ALERTS_TO_LOG_ONLY', value: string(alertsToLogOnly) }
  { name: 'REPORT_SOURCE', value: reportSource }
  { name: 'INCLUDE_GUESTS', value: string(includeGuests) }
  { name: 'EXCLUDE_USERS', value: excludeUsers }
  { name: 'ALERT_NAME_ADMINS', value: string(alertNameAdmins) }
  { name: 'TENANTS', value: tenants }
  { name: 'MULTI_TENANT_APP_ID', value: multiTenantAppId }
  { name: 'MAX_INSTANCE_COUNT', value: string(maximumInstanceCount) }
  { name: 'CHECK_ENFORCEMENT', value: string(checkEnforcement) }
  { name: 'ENFORCEMENT_MAX_EXCLUSIONS', value: string(enforcementMaxExclusions) }
  // With TENANTS, a tenant's row may name a secret in this vault holding its own webhook; the
  // app reads it with its identity (Key Vault Secrets User on the vault, granted above).
  { name: 'KEY_VAULT_URL', value: vault.properties.vaultUri }
  {
    // Always the reference, never blanked: a redeploy that omits the webhook keeps the secret.
    name: 'TEAMS_WEBHOOK_URL'
    value: alertsToLogOnly ? '' : '@Microsoft.KeyVault(SecretUri=${vault.properties.vaultUri}secrets/${webhookSecretName})'
  }
]
var appSettings = concat(commonSettings, identitySettings, consumptionSettings)

var systemAssignedIdentity = { type: 'SystemAssigned' }
var userAssignedKey = useUserAssigned ? userAssignedIdentityResourceId : 'unused' // never an empty key
var userAssignedIdentity = {
  type: 'UserAssigned'
  userAssignedIdentities: { '${userAssignedKey}': {} }
}
var userAssignedAuthentication = {
  type: 'UserAssignedIdentity'
  userAssignedIdentityResourceId: userAssignedIdentityResourceId
}
var packageAuthentication = useUserAssigned ? userAssignedAuthentication : { type: 'SystemAssignedIdentity' }
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: '${storage.properties.primaryEndpoints.blob}${packageContainer}'
      authentication: packageAuthentication
    }
  }
  scaleAndConcurrency: { maximumInstanceCount: maximumInstanceCount, instanceMemoryMB: 2048 }
  runtime: { name: 'python', version: pythonVersion }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  //checkov:skip=CKV_AZURE_16:identity is set by an expression (system- or user-assigned, never none) that checkov cannot evaluate
  //checkov:skip=CKV_AZURE_71:as CKV_AZURE_16
  //checkov:skip=CKV_AZURE_222:no HTTP triggers; the admin endpoint (run FetchReport by hand) and deployment need the public endpoint, guarded by keys and Entra ID
  //checkov:skip=CKV_AZURE_17:no HTTP triggers; client certificates would only block the admin endpoint
  //checkov:skip=CKV_AZURE_212:Consumption plans scale to zero by design; a daily timer needs no standby instance
  //checkov:skip=CKV_AZURE_213:no HTTP endpoint to probe; the no-successful-fetch alert is the health check
  name: appName
  location: location
  kind: 'functionapp,linux'
  identity: useUserAssigned ? userAssignedIdentity : systemAssignedIdentity
  dependsOn: [webhookSecret] // the Key Vault reference resolves at start: the secret must exist
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: packageIdentity
    siteConfig: {
      linuxFxVersion: isFlex ? null : 'Python|${pythonVersion}'
      minTlsVersion: '1.2'
      scmMinTlsVersion: '1.2'
      ftpsState: 'Disabled'
      http20Enabled: true
      // Consumption's scale-out bound (Flex's is maximumInstanceCount, in functionAppConfig).
      functionAppScaleLimit: isFlex ? null : maximumInstanceCount
      appSettings: appSettings
    }
    functionAppConfig: isFlex ? flexConfig : null
  }
}

// No FTP or Web Deploy passwords: deployments authenticate with Entra ID.
resource ftpCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'ftp'
  properties: { allow: false }
}

resource scmCredentials 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: functionApp
  name: 'scm'
  properties: { allow: false }
}

// ---- Outputs (no secrets) -----------------------------------------------------------------

output functionAppName string = functionApp.name
output functionAppHostName string = functionApp.properties.defaultHostName
@description('Grant Graph Reports.Read.All to this principal: infra/grant-reports-read-all.sh --principal-id <it>')
output principalId string = principalId
output storageAccountName string = storage.name
@description('The coverage workbook: Azure portal → Monitor → Workbooks, or this Application Insights resource → Workbooks.')
output workbookId string = workbook.id
