# Install tern on Windows from a published release: the archive, SHA256SUMS
# and SHA256SUMS.sigstore.json exactly as the release holds them.
#
#   irm https://github.com/tern-agent/tern/releases/latest/download/install.ps1 | iex
#
# The same contract as install.sh, step for step, so one can be read against
# the other: fail closed on any checksum or signature mismatch, run nothing
# unverified, unpack beside the previous version and switch only at the end.
#
# Settings (environment variables, since `irm | iex` takes no arguments;
# when the script is saved, the parameters below do the same):
#   TERN_VERSION            the version to install (default: latest)
#   TERN_INSTALL_DIR        where tern.exe is linked (default: %LOCALAPPDATA%\tern\bin)
#   TERN_NO_MODIFY_PATH=1   leave the user PATH alone
#   TERN_REQUIRE_SIGNATURE=1  refuse to install without cosign
#   TERN_DOWNLOAD_URL       the releases root (mirrors and tests)
#   TERN_COSIGN_KEY         a cosign public key for releases a mirror signs itself

[CmdletBinding()]
param(
    [string]$Version = $(if ($env:TERN_VERSION) { $env:TERN_VERSION } else { 'latest' }),
    [string]$InstallDir = $env:TERN_INSTALL_DIR,
    [switch]$NoModifyPath = ($env:TERN_NO_MODIFY_PATH -eq '1'),
    [switch]$RequireSignature = ($env:TERN_REQUIRE_SIGNATURE -eq '1'),
    [switch]$Uninstall
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

# --- what the release looks like (checked against release.yaml by a test) ---
$Product = 'tern'
$DefaultDownloadUrl = 'https://github.com/tern-agent/tern/releases'
$SupportedTargets = 'windows-x64 windows-arm64'
$CertIdentityRegexp = '^https://github\.com/tern-agent/tern/\.github/workflows/release\.yml@refs/tags/v'
$CertOidcIssuer = 'https://token.actions.githubusercontent.com'

function Say([string]$Message) { [Console]::Error.WriteLine("tern-install: $Message") }
function Die([string]$Message) { Say "error: $Message"; exit 1 }

$Root = $(if ($env:TERN_DOWNLOAD_URL) { $env:TERN_DOWNLOAD_URL } else { $DefaultDownloadUrl }).TrimEnd('/')
$DataDir = Join-Path $env:LOCALAPPDATA $Product
if (-not $InstallDir) { $InstallDir = Join-Path $DataDir 'bin' }
$Version = $Version -replace '^v', ''

# --- uninstall ---------------------------------------------------------------

function Remove-FromUserPath([string]$Dir) {
    $path = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (-not $path) { return }
    $kept = ($path -split ';') | Where-Object { $_ -and ($_ -ne $Dir) }
    $new = $kept -join ';'
    if ($new -ne $path) {
        [Environment]::SetEnvironmentVariable('Path', $new, 'User')
        Say "removed $Dir from the user PATH"
    }
}

if ($Uninstall) {
    $receipt = Join-Path $DataDir 'receipt'
    if (Test-Path $receipt) {
        foreach ($line in Get-Content $receipt) {
            if ($line -like 'path:*') { Remove-FromUserPath $line.Substring(5) }
        }
    }
    $exe = Join-Path $InstallDir "$Product.exe"
    if (Test-Path $exe) { Remove-Item -Force $exe; Say "removed $exe" }
    if (Test-Path $DataDir) { Remove-Item -Recurse -Force $DataDir; Say "removed $DataDir" }
    exit 0
}

# --- where we are --------------------------------------------------------------

function Get-Target {
    # PROCESSOR_ARCHITEW6432 is set when a 32-bit PowerShell runs on 64-bit Windows.
    $arch = $(if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE })
    switch ($arch) {
        'AMD64' { return 'windows-x64' }
        'ARM64' { return 'windows-arm64' }
        default { Die "no $Product build for Windows on $arch; supported: $SupportedTargets" }
    }
}

# --- tools ---------------------------------------------------------------------

function Get-File([string]$Url, [string]$Out) {
    try {
        # TLS 1.2 for Windows PowerShell 5.1, whose default may be older.
        [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
        $ProgressPreference = 'SilentlyContinue'
        Invoke-WebRequest -UseBasicParsing -Uri $Url -OutFile $Out
    } catch {
        Die "download failed: $Url ($($_.Exception.Message))"
    }
}

function Test-Signature([string]$Sums, [string]$Bundle) {
    $cosign = Get-Command cosign -ErrorAction SilentlyContinue
    if (-not $cosign) {
        if ($RequireSignature) { Die '-RequireSignature needs cosign on PATH to check SHA256SUMS.sigstore.json: install it from https://docs.sigstore.dev/cosign/system_config/installation/' }
        Say 'cosign is not installed: the signature is not checked (the checksums are)'
        return
    }
    if ($env:TERN_COSIGN_KEY) {
        $verifyArgs = @('--key', $env:TERN_COSIGN_KEY, '--insecure-ignore-tlog=true')
    } else {
        $verifyArgs = @('--certificate-identity-regexp', $CertIdentityRegexp, '--certificate-oidc-issuer', $CertOidcIssuer)
    }
    & $cosign.Source verify-blob @verifyArgs --bundle $Bundle $Sums 2>&1 | Out-Null
    if ($LASTEXITCODE -ne 0) { Die 'the signature SHA256SUMS.sigstore.json does not verify over SHA256SUMS: the release was altered; not installing' }
    Say 'signature verified'
}

# Test-Entries refuses a zip with absolute paths or .. before anything is unpacked.
function Test-Entries([string]$Zip, [string]$Name) {
    Add-Type -AssemblyName System.IO.Compression.FileSystem
    $z = [IO.Compression.ZipFile]::OpenRead($Zip)
    try {
        foreach ($e in $z.Entries) {
            $n = $e.FullName -replace '\\', '/'
            if ($n.StartsWith('/') -or $n -match '^[A-Za-z]:' -or ("/$n/" -like '*/../*')) {
                Die "$Name holds an unsafe entry: $($e.FullName)"
            }
        }
    } finally { $z.Dispose() }
}

# --- install -------------------------------------------------------------------

$target = Get-Target
$tmp = Join-Path ([IO.Path]::GetTempPath()) ("tern-install." + [Guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory -Path $tmp | Out-Null
try {
    if ($Version -eq 'latest') {
        # The latest release's own SHA256SUMS names it; no API token needed.
        Get-File "$Root/latest/download/SHA256SUMS" "$tmp\latest-sums"
        $m = Select-String -Path "$tmp\latest-sums" -Pattern "^[0-9a-f]{64}  $Product-(.+)-$target\.zip$" | Select-Object -First 1
        if (-not $m) { Die "the latest release has no $Product archive for $target" }
        $Version = $m.Matches[0].Groups[1].Value
    }
    if ($Version -notmatch '^[0-9A-Za-z.+-]+$') { Die "not a version: $Version" }

    $dest = Join-Path $DataDir "versions\$Version"
    $exe = Join-Path $InstallDir "$Product.exe"
    $current = Join-Path $DataDir 'current'
    if ((Test-Path "$dest\bin\$Product.exe") -and (Test-Path $current) -and ((Get-Content $current) -eq $Version)) {
        Say "$Product $Version is already installed at $exe; nothing to do"
        exit 0
    }

    $archive = "$Product-$Version-$target.zip"
    $base = "$Root/download/v$Version"
    Say "installing $Product $Version for $target from $base"
    Get-File "$base/SHA256SUMS" "$tmp\SHA256SUMS"
    Get-File "$base/$archive" "$tmp\$archive"

    $want = $null
    foreach ($line in Get-Content "$tmp\SHA256SUMS") {
        $fields = $line -split '  ', 2
        if ($fields.Count -eq 2 -and $fields[1] -eq $archive) { $want = $fields[0] }
    }
    if (-not $want) { Die "SHA256SUMS lists no $archive" }
    if ($want -notmatch '^[0-9a-f]{64}$') { Die "SHA256SUMS has a malformed line for $archive" }
    $got = (Get-FileHash -Algorithm SHA256 "$tmp\$archive").Hash.ToLowerInvariant()
    if ($got -ne $want) { Die "$archive has sha256 $got, but SHA256SUMS says ${want}: the download is corrupt or was altered; not installing" }
    Say 'checksum verified'

    if ($RequireSignature -or (Get-Command cosign -ErrorAction SilentlyContinue)) {
        Get-File "$base/SHA256SUMS.sigstore.json" "$tmp\SHA256SUMS.sigstore.json"
        Test-Signature "$tmp\SHA256SUMS" "$tmp\SHA256SUMS.sigstore.json"
    }

    Test-Entries "$tmp\$archive" $archive
    Expand-Archive -Path "$tmp\$archive" -DestinationPath "$tmp\unpacked"
    $tree = "$tmp\unpacked\$Product-$Version-$target"
    if (-not (Test-Path "$tree\bin\$Product.exe")) { Die "$archive has no bin\$Product.exe" }

    # The binary is verified now; ask it what it is.
    $reported = ((& "$tree\bin\$Product.exe" --version) -split ' ')[1]
    if ($reported -ne $Version) { Die "the unpacked binary says it is version '$reported', not $Version; not installing" }

    # Into place: the versioned tree by rename, then the launcher copy.
    New-Item -ItemType Directory -Force -Path (Join-Path $DataDir 'versions'), $InstallDir | Out-Null
    $partial = Join-Path $DataDir "versions\.partial-$Version-$PID"
    Move-Item $tree $partial
    if (Test-Path $dest) {
        $stale = Join-Path $DataDir "versions\.stale-$Version-$PID"
        Move-Item $dest $stale
        Move-Item $partial $dest
        Remove-Item -Recurse -Force $stale
    } else {
        Move-Item $partial $dest
    }
    # Windows links need privileges; a hard link to the verified binary is
    # the nearest to an atomic switch: made beside, then moved over.
    $newExe = Join-Path $InstallDir ".$Product.new-$PID.exe"
    New-Item -ItemType HardLink -Path $newExe -Target "$dest\bin\$Product.exe" | Out-Null
    Move-Item -Force $newExe $exe
    Set-Content -Path $current -Value $Version
    Say "installed $Product $Version`: $exe -> $dest\bin\$Product.exe"

    # --- PATH --------------------------------------------------------------------
    $userPath = [Environment]::GetEnvironmentVariable('Path', 'User')
    if (-not $userPath) { $userPath = '' }
    if (($userPath -split ';') -notcontains $InstallDir) {
        if ($NoModifyPath) {
            Say "$InstallDir is not on PATH; add it yourself (TERN_NO_MODIFY_PATH=1 was set)"
        } else {
            [Environment]::SetEnvironmentVariable('Path', (($userPath.TrimEnd(';'), $InstallDir) -join ';').TrimStart(';'), 'User')
            Add-Content -Path (Join-Path $DataDir 'receipt') -Value "path:$InstallDir"
            Say "added $InstallDir to the user PATH; open a new terminal to use it"
        }
    }
} finally {
    Remove-Item -Recurse -Force $tmp -ErrorAction SilentlyContinue
}
