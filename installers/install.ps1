# Install tern on Windows from a published release: the archive, SHA256SUMS
# and SHA256SUMS.sigstore.json exactly as the release holds them. The command
# is tern.exe.
#
#   irm https://github.com/tern-agent/tern/releases/latest/download/install.ps1 | iex
#
# The same contract as install.sh, step for step, so one can be read against
# the other: fail closed on any checksum or signature mismatch; say plainly
# when the signature cannot be checked (no cosign), and then never run the
# new binary; https only (loopback excepted), redirects included; unpack
# beside the previous version and switch only at the end.
#
# Everything is a function, and the last line calls Install-Tern: a cut
# download defines functions at most and runs nothing.
#
# Settings (environment variables, since `irm | iex` takes no arguments;
# when the script is saved, the parameters below do the same):
#   TERN_VERSION            the version to install (default: latest)
#   TERN_INSTALL_DIR        where tern.exe is linked (default: %LOCALAPPDATA%\tern\bin)
#   TERN_NO_MODIFY_PATH=1   leave the user PATH alone
#   TERN_REQUIRE_SIGNATURE=1  refuse to install without cosign
#   TERN_DOWNLOAD_URL       the releases root (mirrors and tests): https, or http on loopback
#   TERN_INSECURE_ALLOW_HTTP=1  allow a plain-http root and redirects (a trusted network only)
#   TERN_PUBLIC_KEY         a cosign public key for releases signed with a key
#                           (TERN_COSIGN_KEY is read too)

[CmdletBinding()]
param(
    [string]$Version = $(if ($env:TERN_VERSION) { $env:TERN_VERSION } else { 'latest' }),
    [string]$InstallDir = $env:TERN_INSTALL_DIR,
    [switch]$NoModifyPath = ($env:TERN_NO_MODIFY_PATH -eq '1'),
    [switch]$RequireSignature = ($env:TERN_REQUIRE_SIGNATURE -eq '1'),
    [switch]$InsecureAllowHttp = ($env:TERN_INSECURE_ALLOW_HTTP -eq '1'),
    [string]$PublicKey = $(if ($env:TERN_PUBLIC_KEY) { $env:TERN_PUBLIC_KEY } else { $env:TERN_COSIGN_KEY }),
    [switch]$Uninstall
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 3

# --- what the release looks like (checked against release.yaml by a test) ---
$Product = 'tern'
$Binary = 'tern'
$DefaultDownloadUrl = 'https://github.com/tern-agent/tern/releases'
$SupportedTargets = 'windows-x64 windows-arm64'
# Go's name of each platform the release has a build for (windows_amd64) =
# its target, as the archives name it.
$TargetTable = 'windows_amd64=windows-x64 windows_arm64=windows-arm64'
$CertIdentityRegexp = '^https://github\.com/tern-agent/tern/\.github/workflows/release\.yml@refs/tags/v'
$CertOidcIssuer = 'https://token.actions.githubusercontent.com'
# How the binary is asked its version, and what its output must hold,
# {{.Version}} standing for the version (release.yaml's version_check).
$VersionArgs = @('--version')
$VersionContains = '{{.Version}}'
# The cosign public key of a key-signed release; the packager fills it (as
# install.sh's PUBLIC_KEY_PEM). Empty: keyless, by $CertIdentityRegexp.
$PublicKeyPem = ''

function Say([string]$Message) { [Console]::Error.WriteLine("tern-install: $Message") }
function Die([string]$Message) { Say "error: $Message"; exit 1 }

function Initialize-Settings {
    $script:Root = $(if ($env:TERN_DOWNLOAD_URL) { $env:TERN_DOWNLOAD_URL } else { $DefaultDownloadUrl }).TrimEnd('/')
    $script:DataDir = Join-Path $env:LOCALAPPDATA $Product
    if (-not $script:InstallDir) { $script:InstallDir = Join-Path $script:DataDir 'bin' }
    $script:Version = $script:Version -replace '^v', ''
    $script:Verified = $false
}

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

# The receipt holds one "path:<dir>" per line, read back line by line.
function Uninstall-Tern {
    $receipt = Join-Path $DataDir 'receipt'
    if (Test-Path -LiteralPath $receipt) {
        foreach ($line in Get-Content -LiteralPath $receipt) {
            if ($line -like 'path:*') { Remove-FromUserPath $line.Substring(5) }
        }
    }
    $exe = Join-Path $InstallDir "$Binary.exe"
    if (Test-Path -LiteralPath $exe) { Remove-Item -LiteralPath $exe -Force; Say "removed $exe" }
    if (Test-Path -LiteralPath $DataDir) { Remove-Item -LiteralPath $DataDir -Recurse -Force; Say "removed $DataDir" }
}

# --- where we are --------------------------------------------------------------

# Get-Target returns the target this machine installs: its Go platform
# looked up in $TargetTable.
function Get-Target {
    # The operating system's architecture, not this process's: a 32-bit or
    # emulated PowerShell reports its own in PROCESSOR_ARCHITECTURE.
    # RuntimeInformation needs .NET Framework 4.7.1 or later; before it,
    # PROCESSOR_ARCHITEW6432 is set when a 32-bit PowerShell runs on 64-bit
    # Windows.
    $arch = $null
    try { $arch = [string][Runtime.InteropServices.RuntimeInformation]::OSArchitecture } catch { $arch = $null }
    if (-not $arch) { $arch = $(if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE }) }
    $goarch = switch ($arch) {
        'X64' { 'amd64' }
        'AMD64' { 'amd64' }
        'Arm64' { 'arm64' }
        'X86' { '386' }
        default { $null }
    }
    if (-not $goarch) { Die "no $Product build for Windows on $arch, which this installer does not know; this release has: $SupportedTargets" }
    foreach ($entry in $TargetTable -split ' ') {
        $platform, $name = $entry -split '=', 2
        if ($platform -ceq "windows_$goarch") { return $name }
    }
    Die "no $Product build for this machine, Windows on $arch (Go's windows_$goarch); this release has: $SupportedTargets"
}

# --- tools ---------------------------------------------------------------------

# Test-Url refuses anything but https, and plain http to a loopback
# address, unless -InsecureAllowHttp was given.
function Test-Url([string]$Url, [string]$What) {
    $u = $null
    if (-not [Uri]::TryCreate($Url, [UriKind]::Absolute, [ref]$u)) { Die "refusing $What from '$Url': not a URL; fix TERN_DOWNLOAD_URL" }
    if ($u.Scheme -eq 'https') { return }
    if ($u.Scheme -ne 'http') { Die "refusing $What from $Url`: only https:// URLs (or http:// to loopback) are fetched; fix TERN_DOWNLOAD_URL" }
    if (-not $u.UserInfo -and ($u.IsLoopback -and ($u.Host -eq 'localhost' -or $u.Host -eq '[::1]' -or $u.Host -match '^127\.[0-9.]+$'))) { return }
    if ($InsecureAllowHttp) { Say "warning: $Url is plain http (-InsecureAllowHttp): anyone on the path can swap what it serves"; return }
    Die "refusing $What over plain http: $Url (only https, or http to 127.0.0.1, localhost or [::1]); use an https URL, or set TERN_INSECURE_ALLOW_HTTP=1 for a mirror you trust on a trusted network"
}

# Get-File follows redirects itself, so that each hop is held to https like
# the first (Windows PowerShell 5.1 would follow https to http).
function Get-File([string]$Url, [string]$Out) {
    # TLS 1.2 for Windows PowerShell 5.1, whose default may be older.
    [Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12
    $ProgressPreference = 'SilentlyContinue'
    $next = $Url
    for ($hop = 0; $hop -le 10; $hop++) {
        Test-Url $next 'download'
        $location = $null
        try {
            $resp = Invoke-WebRequest -UseBasicParsing -Uri $next -OutFile $Out -PassThru -MaximumRedirection 0 -ErrorAction Stop
            if ([int]$resp.StatusCode -lt 300) { return }
            $location = $resp.Headers['Location']
        } catch {
            $r = $_.Exception.Response
            if ($r -and [int]$r.StatusCode -ge 300 -and [int]$r.StatusCode -lt 400) {
                $location = $r.Headers.Location
                if (-not $location) { $location = $r.Headers['Location'] }
            }
            if (-not $location) { Die "download failed: $Url ($($_.Exception.Message))" }
        }
        if (-not $location) { Die "download failed: $Url" }
        $next = ([Uri]::new([Uri]$next, [string]$location)).AbsoluteUri
        if (-not $next.StartsWith('https://') -and -not $InsecureAllowHttp) {
            Die "download failed: $Url redirects to $next, which is not https; not following it"
        }
    }
    Die "download failed: $Url redirects more than 10 times"
}

# Test-Signature sets $script:Verified when the signature over SHA256SUMS
# checks out, dies when it does not, and says plainly when it cannot be
# checked. (install.sh falls back to openssl; Windows has none by default,
# so here the check needs cosign.)
function Test-Signature([string]$Sums, [string]$Bundle) {
    $cosign = Get-Command cosign -ErrorAction SilentlyContinue
    if (-not $cosign) {
        if ($RequireSignature) { Die '-RequireSignature needs cosign on PATH to check SHA256SUMS.sigstore.json: install it from https://docs.sigstore.dev/cosign/system_config/installation/' }
        Say 'WARNING: the signature is NOT checked: cosign is not installed.'
        Say 'WARNING: the checksums are, but whoever serves the release controls them too; the new binary is not run before it is installed.'
        Say 'WARNING: install cosign to check it, or set TERN_REQUIRE_SIGNATURE=1 to refuse such an install.'
        return
    }
    $key = $PublicKey
    if (-not $key -and $PublicKeyPem) {
        $key = Join-Path (Split-Path -Parent $Sums) 'pinned.pub'
        Set-Content -LiteralPath $key -Value $PublicKeyPem
    }
    if ($key) {
        $verifyArgs = @('--key', $key, '--insecure-ignore-tlog=true')
    } else {
        $verifyArgs = @('--certificate-identity-regexp', $CertIdentityRegexp, '--certificate-oidc-issuer', $CertOidcIssuer)
    }
    & $cosign.Source verify-blob @verifyArgs --bundle $Bundle $Sums 2>&1 | Out-Null
    if ($LASTEXITCODE -ne 0) { Die 'the signature SHA256SUMS.sigstore.json does not verify over SHA256SUMS: the release was altered; not installing' }
    Say 'signature verified (cosign)'
    $script:Verified = $true
}

# Get-VersionOutput runs the binary as release.yaml's version_check says,
# and returns its output and errors together, as install.sh's
# run_version_check.
function Get-VersionOutput([string]$Exe) {
    # Windows PowerShell stops at a native command's stderr under 'Stop'.
    $ErrorActionPreference = 'Continue'
    $lines = & $Exe @VersionArgs 2>&1 | ForEach-Object { "$_" }
    return ($lines -join "`n")
}

# Get-VersionText is $VersionContains with the version for each {{.Version}}:
# what the binary of that version prints.
function Get-VersionText([string]$V) { return $VersionContains.Replace('{{.Version}}', $V) }

# Test-ReportsVersion says whether the output states the version: it holds
# Get-VersionText somewhere that what follows does not go on with a version
# (1.2.3 is not 1.2.30, nor 1.2.3-rc.1). Every occurrence is tried, not only
# the first. The packager's verify and install.sh apply the same rule
# (config.VersionCheck.Reports).
function Test-ReportsVersion([string]$Output, [string]$V) {
    $want = Get-VersionText $V
    $i = $Output.IndexOf($want, [StringComparison]::Ordinal)
    while ($i -ge 0) {
        $rest = $Output.Substring($i + $want.Length)
        if (($rest.Length -eq 0) -or ([string]$rest[0] -cnotmatch '^[A-Za-z0-9.+-]$')) { return $true }
        if ($i -ge $Output.Length) { return $false }
        $i = $Output.IndexOf($want, $i + 1, [StringComparison]::Ordinal)
    }
    return $false
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

function Install-Release {
    $target = Get-Target
    Test-Url $Root 'TERN_DOWNLOAD_URL'
    $tmp = Join-Path ([IO.Path]::GetTempPath()) ("tern-install." + [Guid]::NewGuid().ToString('N'))
    New-Item -ItemType Directory -Path $tmp | Out-Null
    try {
        if ($Version -eq 'latest') {
            # The latest release's own SHA256SUMS names it; no API token needed.
            Get-File "$Root/latest/download/SHA256SUMS" "$tmp\latest-sums"
            # The regex is given by position, so no parameter's name spells another product's.
            $m = Select-String "^[0-9a-f]{64}  $Product-(.+)-$target\.zip$" -Path "$tmp\latest-sums" | Select-Object -First 1
            if (-not $m) { Die "the latest release has no $Product archive for $target" }
            $Version = $m.Matches[0].Groups[1].Value
        }
        if ($Version -notmatch '^[0-9A-Za-z.+-]+$') { Die "not a version: $Version" }

        $dest = Join-Path $DataDir "versions\$Version"
        $exe = Join-Path $InstallDir "$Binary.exe"
        $current = Join-Path $DataDir 'current'
        if ((Test-Path "$dest\bin\$Binary.exe") -and (Test-Path $current) -and ((Get-Content $current) -eq $Version)) {
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
        }
        Test-Signature "$tmp\SHA256SUMS" "$tmp\SHA256SUMS.sigstore.json"

        Test-Entries "$tmp\$archive" $archive
        Expand-Archive -Path "$tmp\$archive" -DestinationPath "$tmp\unpacked"
        $tree = "$tmp\unpacked\$Product-$Version-$target"
        if (-not (Test-Path "$tree\bin\$Binary.exe")) { Die "$archive has no bin\$Binary.exe" }

        if ($script:Verified) {
            # The binary is verified now; ask it what it is.
            $reported = Get-VersionOutput "$tree\bin\$Binary.exe"
            if (-not (Test-ReportsVersion $reported $Version)) {
                $first = ($reported -split "`n", 2)[0]
                if ($first.Length -gt 200) { $first = $first.Substring(0, 200) }
                Die "the unpacked $Binary.exe does not report version ${Version}: its output should hold '$(Get-VersionText $Version)' (release.yaml's version_check), and begins '$first'; not installing"
            }
        } else {
            Say "not running the unchecked binary: its version, $Version, is the one SHA256SUMS and the archive's tree name give"
        }

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
        $newExe = Join-Path $InstallDir ".$Binary.new-$PID.exe"
        New-Item -ItemType HardLink -Path $newExe -Target "$dest\bin\$Binary.exe" | Out-Null
        Move-Item -Force $newExe $exe
        Set-Content -Path $current -Value $Version
        Say "installed $Product $Version`: $exe -> $dest\bin\$Binary.exe"

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
}

function Install-Tern {
    Initialize-Settings
    if ($Uninstall) { Uninstall-Tern } else { Install-Release }
}

Install-Tern
