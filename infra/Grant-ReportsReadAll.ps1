<#
.SYNOPSIS
    Grants Microsoft Graph's application permissions Reports.Read.All (the beta report) and
    AuditLog.Read.All (v1.0 userRegistrationDetails) to the function app's managed identity,
    with Microsoft Graph PowerShell. The same as grant-reports-read-all.sh (Azure CLI).

.DESCRIPTION
    Looks up Microsoft Graph's service principal by its app id and the ids of its Application
    roles by name (never hard-coded), and assigns each role the identity does not already have:
    running it twice is fine, and an identity granted only Reports.Read.All gets just
    AuditLog.Read.All. With -Check it changes nothing and exits 0 when both are granted, 3 when
    one is not. Other failures exit 1.

    Granting a Microsoft Graph app role needs the Entra role Privileged Role Administrator (or
    Global Administrator); -Check only reads. Needs the Microsoft.Graph.Applications module:
        Install-Module Microsoft.Graph.Applications -Scope CurrentUser

.PARAMETER PrincipalId
    The managed identity's object (principal) id: the deployment output principalId, not its
    client id.

.PARAMETER Check
    Only report whether both permissions are granted (exit 0) or not (exit 3).

.PARAMETER Environment
    The Microsoft Graph cloud for Connect-MgGraph: Global (default), USGov, USGovDoD, China
    (Get-MgEnvironment lists them).

.EXAMPLE
    ./infra/Grant-ReportsReadAll.ps1 -PrincipalId 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b

.EXAMPLE
    ./infra/Grant-ReportsReadAll.ps1 -PrincipalId 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b -Check

.NOTES
    Never run: the machine it was written on had no PowerShell. It was reviewed against the
    cmdlets' documentation; the Azure CLI script beside it is the tested one.
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
$GraphAppId = '00000003-0000-0000-c000-000000000000'  # Microsoft Graph, the same in every tenant
$RoleNames = @('Reports.Read.All', 'AuditLog.Read.All')
$NotGranted = 3

# Turns a failed Graph call into what to do about it, keeping Graph's own message.
function Get-Advice([System.Management.Automation.ErrorRecord] $Failure, [switch] $AboutPrincipal) {
    $text = "$Failure"
    if ($text -match 'Authorization_RequestDenied|Forbidden') {
        return "The signed-in account lacks the rights. Granting a Microsoft Graph app role needs " +
            "the Entra role Privileged Role Administrator (or Global Administrator); Cloud " +
            "Application Administrator and Application Administrator cannot grant Microsoft " +
            "Graph's own app roles. The session needs AppRoleAssignment.ReadWrite.All and " +
            "Application.Read.All. Graph said: $text"
    }
    if ($AboutPrincipal -and $text -match 'Request_ResourceNotFound|NotFound') {
        return "No service principal has object id $PrincipalId in this tenant. Pass the " +
            "managed identity's principal id (the deployment output principalId), not its " +
            "client id. Graph said: $text"
    }
    return $text
}

$scopes = if ($Check) {
    @('Application.Read.All')
} else {
    @('AppRoleAssignment.ReadWrite.All', 'Application.Read.All')
}
Connect-MgGraph -Scopes $scopes -Environment $Environment -NoWelcome

try {
    $graph = Get-MgServicePrincipal -Filter "appId eq '$GraphAppId'" -Property 'id', 'appRoles' |
        Select-Object -First 1
} catch {
    throw (Get-Advice $_)
}
if (-not $graph) {
    throw "Microsoft Graph's service principal (appId $GraphAppId) was not found in this tenant."
}

$roles = foreach ($name in $RoleNames) {
    $role = $graph.AppRoles |
        Where-Object { $_.Value -eq $name -and $_.AllowedMemberTypes -contains 'Application' } |
        Select-Object -First 1
    if (-not $role) { throw "Microsoft Graph has no application role named $name." }
    [pscustomobject]@{ Name = $name; Id = $role.Id }
}

try {
    $assignments = @(Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $PrincipalId -All)
} catch {
    throw (Get-Advice $_ -AboutPrincipal)
}

$missing = @()
foreach ($role in $roles) {
    $existing = $assignments |
        Where-Object { $_.AppRoleId -eq $role.Id -and $_.ResourceId -eq $graph.Id }
    if ($existing) {
        if ($Check) {
            Write-Output "$($role.Name) is granted to $PrincipalId."
        } else {
            Write-Output "$($role.Name) is already granted to $PrincipalId; nothing changed."
        }
    } elseif ($Check) {
        Write-Output ("$($role.Name) is NOT granted to $PrincipalId. Run this script without " +
            "-Check to grant it.")
        $missing += $role
    } else {
        $missing += $role
    }
}
if ($Check) {
    if ($missing.Count -gt 0) { exit $NotGranted }
    exit 0
}

foreach ($role in $missing) {
    try {
        New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $PrincipalId `
            -PrincipalId $PrincipalId -ResourceId $graph.Id -AppRoleId $role.Id | Out-Null
    } catch {
        # Granted meanwhile, or a replica had not shown it yet: that is success too.
        if ("$_" -match 'Permission being assigned already exists') {
            Write-Output "$($role.Name) is already granted to $PrincipalId; nothing changed."
            continue
        }
        throw (Get-Advice $_ -AboutPrincipal)
    }
    Write-Output ("$($role.Name) granted to $PrincipalId. New tokens carry it within minutes " +
        "(cached ones: up to 24 h).")
}
