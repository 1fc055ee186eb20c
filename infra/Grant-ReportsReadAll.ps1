<#
.SYNOPSIS
    Grants Microsoft Graph's Reports.Read.All application permission to the app's managed
    identity, with Microsoft Graph PowerShell. The same as grant-reports-read-all.sh (Azure CLI).

.DESCRIPTION
    Looks up Microsoft Graph's service principal by its app id and the role's id by its name
    (never hard-coded), and assigns the role unless it is already assigned: running it twice is
    fine. With -Check it only reports, and exits 0 when granted, 3 when not.
    Granting a Microsoft Graph app role needs Privileged Role Administrator (or Global
    Administrator). Needs the Microsoft.Graph.Applications module:
    Install-Module Microsoft.Graph.Applications -Scope CurrentUser

.PARAMETER PrincipalId
    The managed identity's object (principal) id: the deployment output principalId.

.PARAMETER Environment
    The Microsoft Graph cloud (Global, USGov, USGovDoD, China), as for Connect-MgGraph.

.EXAMPLE
    ./infra/Grant-ReportsReadAll.ps1 -PrincipalId 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b
    ./infra/Grant-ReportsReadAll.ps1 -PrincipalId 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b -Check

.NOTES
    Not run on the machine it was written on (no PowerShell there); the Azure CLI script beside
    it is the tested one.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')]
    [string] $PrincipalId,

    [switch] $Check,

    [string] $Environment = 'Global'
)

$ErrorActionPreference = 'Stop'
$GraphAppId = '00000003-0000-0000-c000-000000000000'
$RoleName = 'Reports.Read.All'

$scopes = if ($Check) { 'Application.Read.All' } else { 'Application.Read.All', 'AppRoleAssignment.ReadWrite.All' }
Connect-MgGraph -Scopes $scopes -Environment $Environment -NoWelcome

$graph = Get-MgServicePrincipal -Filter "appId eq '$GraphAppId'" -Property Id, AppRoles
if (-not $graph) { throw "Microsoft Graph's service principal ($GraphAppId) was not found." }

$role = $graph.AppRoles |
    Where-Object { $_.Value -eq $RoleName -and $_.AllowedMemberTypes -contains 'Application' } |
    Select-Object -First 1
if (-not $role) { throw "Microsoft Graph has no application role named $RoleName." }

try {
    $assignments = Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $PrincipalId -All
} catch {
    throw "No service principal has object id $PrincipalId (pass the identity's principal id, not its client id): $_"
}
$existing = $assignments | Where-Object { $_.AppRoleId -eq $role.Id -and $_.ResourceId -eq $graph.Id }

if ($existing) {
    Write-Output "$RoleName is granted to $PrincipalId (already in place; nothing changed)."
    exit 0
}
if ($Check) {
    Write-Output "$RoleName is NOT granted to $PrincipalId. Run this script without -Check to grant it."
    exit 3
}

New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $PrincipalId `
    -PrincipalId $PrincipalId -ResourceId $graph.Id -AppRoleId $role.Id | Out-Null
Write-Output "$RoleName granted to $PrincipalId. New tokens carry it within minutes (cached ones: up to 24 h)."
