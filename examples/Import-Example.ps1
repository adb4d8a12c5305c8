# Dot-sourced at the start of the examples (not an example itself): builds the module unless the example was
# given -NoBuild (incremental, seconds when nothing changed), imports it from this repository, and names the
# tiny models in examples/tiny: $base, $chatModel, $cpModel.
$ErrorActionPreference = 'Stop'
$repo = Split-Path -Parent $PSScriptRoot
if (-not $NoBuild) { & (Join-Path $repo 'build.ps1') -Configuration Release }
Import-Module (Join-Path $repo 'ChatVector.psd1') -Force
$tiny = [System.IO.Path]::Combine($PSScriptRoot, 'tiny')
$base = [System.IO.Path]::Combine($tiny, 'base')
$chatModel = [System.IO.Path]::Combine($tiny, 'chat')
$cpModel = [System.IO.Path]::Combine($tiny, 'cp')
