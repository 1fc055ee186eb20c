<#
.SYNOPSIS
    Grants the function app's managed identity the Microsoft Graph application permissions its
    configuration needs, and no others, with Microsoft Graph PowerShell. The same as
    grant-reports-read-all.sh (Azure CLI).

.DESCRIPTION
        Reports.Read.All   the beta report: -ReportSource auto or beta (the app's REPORT_SOURCE)
        AuditLog.Read.All  v1.0 userRegistrationDetails: -ReportSource auto or v1 (it also reads
                           every sign-in and audit log, so a beta-only deployment goes without it)
        Policy.Read.All    -Enforcement (the app's CHECK_ENFORCEMENT=true): Conditional Access
                           policies and security defaults

    Looks up Microsoft Graph's service principal by its app id and the ids of its Application
    roles by name (never hard-coded), and assigns each needed role the identity does not
    already have: running it twice is fine, and an identity that has some of them gets just the
    others. A role it has that the configuration does not need is never removed, but named,
    with the command that removes it. With -Check it changes nothing, says what the
    configuration still lacks, and exits 0 when nothing is missing, 3 when something is. Other
    failures exit 1.

    Granting a Microsoft Graph app role needs the Entra role Privileged Role Administrator (or
    Global Administrator); -Check only reads. Needs the Microsoft.Graph.Applications module:
        Install-Module Microsoft.Graph.Applications -Scope CurrentUser

.PARAMETER PrincipalId
    The managed identity's object (principal) id: the deployment output principalId, not its
    client id.

.PARAMETER ReportSource
    The app's REPORT_SOURCE: auto (default; Reports.Read.All and AuditLog.Read.All), beta
    (Reports.Read.All) or v1 (AuditLog.Read.All).

.PARAMETER Enforcement
    The app runs with CHECK_ENFORCEMENT=true: Policy.Read.All as well.

.PARAMETER Check
    Only report what the configuration lacks: exit 0 when nothing, 3 when something.

.PARAMETER Environment
    The Microsoft Graph cloud for Connect-MgGraph: Global (default), USGov, USGovDoD, China
    (Get-MgEnvironment lists them).

.EXAMPLE
    ./infra/Grant-ReportsReadAll.ps1 -PrincipalId 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b

.EXAMPLE
    ./infra/Grant-ReportsReadAll.ps1 -PrincipalId 6f1c2b3a-4d5e-4f60-8a7b-9c0d1e2f3a4b `
        -ReportSource beta -Enforcement -Check

.NOTES
    Never run: the machine it was written on had no PowerShell. It was reviewed against the
    cmdlets' documentation; the Azure CLI script beside it is the tested one.
#>
[CmdletBinding()]
param(
    [Parameter(Mandatory = $true)]
    [ValidatePattern('^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$')]
    [string] $PrincipalId,

    [ValidateSet('auto', 'beta', 'v1')]
    [string] $ReportSource = 'auto',

    [switch] $Enforcement,

    [switch] $Check,

    [string] $Environment = 'Global'
)

$ErrorActionPreference = 'Stop'
$GraphAppId = '00000003-0000-0000-c000-000000000000'  # Microsoft Graph, the same in every tenant
$NotGranted = 3
# Every role this app can use, what for, and whether this configuration needs it.
$KnownRoles = @(
    [pscustomobject]@{ Name = 'Reports.Read.All'; Purpose = 'the beta report'
        Needed = $ReportSource -in @('auto', 'beta') }
    [pscustomobject]@{ Name = 'AuditLog.Read.All'
        Purpose = 'the v1.0 source, userRegistrationDetails'
        Needed = $ReportSource -in @('auto', 'v1') }
    [pscustomobject]@{ Name = 'Policy.Read.All'
        Purpose = 'CHECK_ENFORCEMENT, Conditional Access and security defaults'
        Needed = [bool] $Enforcement }
)
$Configuration = "-ReportSource $ReportSource"
if ($Enforcement) { $Configuration += ' -Enforcement' }

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

$roles = foreach ($wanted in $KnownRoles) {
    $role = $graph.AppRoles |
        Where-Object {
            $_.Value -eq $wanted.Name -and $_.AllowedMemberTypes -contains 'Application'
        } |
        Select-Object -First 1
    if (-not $role) {
        if ($wanted.Needed) {
            throw "Microsoft Graph has no application role named $($wanted.Name)."
        }
        continue  # not used by this configuration: nothing to grant or to name
    }
    [pscustomobject]@{
        Name = $wanted.Name; Purpose = $wanted.Purpose; Needed = $wanted.Needed; Id = $role.Id
    }
}

try {
    $assignments = @(Get-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $PrincipalId -All)
} catch {
    throw (Get-Advice $_ -AboutPrincipal)
}

$missing = @()
foreach ($role in $roles) {
    $existing = $assignments |
        Where-Object { $_.AppRoleId -eq $role.Id -and $_.ResourceId -eq $graph.Id } |
        Select-Object -First 1
    if (-not $role.Needed) {
        if ($existing) {
            Write-Output ("$($role.Name) is granted to $PrincipalId, but $Configuration does " +
                "not need it ($($role.Purpose)). Nothing here removes a grant; if nothing else " +
                "uses it: Remove-MgServicePrincipalAppRoleAssignment -ServicePrincipalId " +
                "$PrincipalId -AppRoleAssignmentId $($existing.Id)")
        }
    } elseif ($existing) {
        if ($Check) {
            Write-Output "$($role.Name) is granted to $PrincipalId."
        } else {
            Write-Output "$($role.Name) is already granted to $PrincipalId; nothing changed."
        }
    } else {
        if ($Check) {
            Write-Output "$($role.Name) is NOT granted to $PrincipalId ($($role.Purpose))."
        }
        $missing += $role
    }
}
if ($Check) {
    if ($missing.Count -gt 0) {
        Write-Output ("Missing for ${Configuration}: $($missing.Name -join ' '). Run this " +
            "script without -Check, with the same options, to grant it.")
        exit $NotGranted
    }
    Write-Output "Nothing is missing for $Configuration."
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
