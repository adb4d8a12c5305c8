# Dot-sourced by every *.Tests.ps1 in BeforeAll: imports the built module as a user does, and loads the test kit
# (tests/ChatVector.TestKit, ChatVector.TestKit.dll) that writes models and computes expectations another way:
# hand-built LLaMA-shaped models and files ([ChatVector.TestKit.LlamaModelBuilder], SafeTensorsWriter, LlamaWeights)
# and a safetensors reader that shares no code with the module ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]).
$script:RepoRoot = Split-Path -Parent (Split-Path -Parent $PSScriptRoot)
$script:Tiny = Join-Path $RepoRoot 'examples/tiny'
$configuration = if ($env:CHATVECTOR_TEST_CONFIGURATION) { $env:CHATVECTOR_TEST_CONFIGURATION } else { 'Release' }
$testKitDll = Join-Path $RepoRoot "tests/ChatVector.TestKit/bin/$configuration/net8.0/ChatVector.TestKit.dll"
if (-not (Test-Path $testKitDll)) {
    $testKitDll = Get-ChildItem (Join-Path $RepoRoot 'tests/ChatVector.TestKit/bin/*/net8.0/ChatVector.TestKit.dll') |
        Sort-Object LastWriteTime -Descending | Select-Object -First 1 -ExpandProperty FullName
}
if (-not ('ChatVector.TestKit.LlamaModelBuilder' -as [type])) { Add-Type -Path $testKitDll }
Import-Module (Join-Path $RepoRoot 'ChatVector.psd1') -Force -ErrorAction Stop

# Text in and out needs the Hugging Face tokenizers library, which ChatVector ships for linux-x64 only (its
# package serves no other platform). Tests of text tokenization skip where the module has none, saying so.
$script:TextTokenizerMissing = -not (Get-ChildItem (Join-Path $RepoRoot 'module/bin/deps') -Filter '*hf_tokenizers*' -ErrorAction Ignore)
$script:NoTextTokenizer = 'the Hugging Face tokenizers library is not shipped for this platform (linux-x64 only), so text cannot be tokenized'

# A base/chat/cp trio written by the independent builder under $Root; cp has 4 extra vocabulary rows.
function New-TestTrio {
    param([Parameter(Mandatory)] [string] $Root)
    $template = '{% for m in messages %}<|im_start|>{{ m.content }}<|im_end|>{% endfor %}'
    $trio = [ordered]@{ Root = $Root; Base = Join-Path $Root 'base'; Chat = Join-Path $Root 'chat'; Cp = Join-Path $Root 'cp' }
    $trio.BaseValues = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 11; Vocab = 40 }).Write($trio.Base)
    $trio.ChatValues = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 12; Vocab = 40; ChatTemplate = $template; EosToken = '<|im_end|>' }).Write($trio.Chat)
    $trio.CpValues = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 13; Vocab = 44; Shards = 2 }).Write($trio.Cp)
    [pscustomobject]$trio
}

# Every tensor of a file or folder, widened to float64, by name (read by the independent reader).
function Read-IndependentTensors {
    param([Parameter(Mandatory)] [string] $Path)
    [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::ReadValues($Path)
}

# The command line that starts another pwsh like this one. Under the dotnet tool the process is 'dotnet'
# (running $PSHOME/pwsh.dll), so the process path alone would start dotnet, not pwsh.
function Get-ChildPwshCommand {
    $process = [Environment]::ProcessPath
    if ([IO.Path]::GetFileNameWithoutExtension($process) -eq 'pwsh') { return , @($process) }
    return , @($process, (Join-Path $PSHOME 'pwsh.dll'))
}

# Runs $Script in a child 'pwsh -NoProfile' (a separate process, as a user starts one) from $RepoRoot.
# $Environment entries are set for the child only ($null removes a variable); CHATVECTOR_NATIVE_DIR is
# removed unless given, so the module finds its natives as installed. Pass paths through $Environment
# rather than quoting them into the script. (-EncodedCommand would make the child also write its streams
# to stderr as CLIXML.) Returns the exit code and the output lines (stdout and stderr together).
function Invoke-ChildPwsh {
    param(
        [Parameter(Mandatory)] [string] $Script,
        [hashtable] $Environment = @{}
    )
    $variables = @{ CHATVECTOR_NATIVE_DIR = $null }
    foreach ($name in $Environment.Keys) { $variables[$name] = $Environment[$name] }
    # PowerShell passes $null to a string parameter as '', which SetEnvironmentVariable keeps as an empty variable
    # (libtorch then warns about an empty ATEN_CPU_CAPABILITY), so a $null removes the variable through Env: instead.
    function Set-ProcessVariable([string] $Name, $Value) {
        if ($null -eq $Value) { Remove-Item -LiteralPath "Env:$Name" -ErrorAction Ignore }
        else { [Environment]::SetEnvironmentVariable($Name, [string]$Value) }
    }
    $saved = @{}
    foreach ($name in $variables.Keys) {
        $saved[$name] = [Environment]::GetEnvironmentVariable($name)
        Set-ProcessVariable $name $variables[$name]
    }
    $command = Get-ChildPwshCommand
    Push-Location $RepoRoot
    try {
        $arguments = @($command | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $Script)
        $lines = & $command[0] @arguments 2>&1 | ForEach-Object { "$_" }
        [pscustomobject]@{ ExitCode = $LASTEXITCODE; Output = @($lines); Text = $lines -join [Environment]::NewLine }
    }
    finally {
        Pop-Location
        foreach ($name in $saved.Keys) { Set-ProcessVariable $name $saved[$name] }
    }
}

# A PowerShell instance on a new runspace of this process with the module imported, for what a
# pipeline cannot observe about itself: its progress records, or a Stop at a chosen moment.
# The caller disposes it.
function New-ModulePowerShell {
    $ps = [powershell]::Create()
    $null = $ps.AddCommand('Import-Module').AddParameter('Name', (Join-Path $RepoRoot 'ChatVector.psd1')).AddParameter('ErrorAction', 'Stop').Invoke()
    $ps.Commands.Clear()
    $ps
}

# Every tensor's raw bytes of a file or folder, by name (read by the independent reader).
function Read-IndependentBytes {
    param([Parameter(Mandatory)] [string] $Path)
    [ChatVector.TestKit.Independent.IndependentSafeTensorReader]::ReadBytes($Path)
}

# Every tensor of two files or folders the same bytes under the same names (read by the independent reader).
function Assert-SameTensors([string] $Actual, [string] $Expected) {
    $a = Read-IndependentBytes $Actual
    $e = Read-IndependentBytes $Expected
    $a.Count | Should -Be $e.Count
    foreach ($name in $e.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $e[$name]) | Should -BeTrue -Because $name }
}

# A tiny LLaMA trained to memorise $Text (its words, then </s>), written to $Path as a Hugging Face folder with a
# word-level tokenizer.json (ids: <unk> 0, <s> 1, </s> 2, then the text's distinct words in order of first use).
# Trained by tests/ChatVector.TinyTrainer (the test kit's TinyLlama and trainer: TorchSharp autograd, its own forward
# pass) in a child process.
function New-MemorisedModel {
    param([Parameter(Mandatory)] [string] $Path, [Parameter(Mandatory)] [string] $Text)
    $configuration = if ($env:CHATVECTOR_TEST_CONFIGURATION) { $env:CHATVECTOR_TEST_CONFIGURATION } else { 'Release' }
    $trainer = Join-Path $RepoRoot "tests/ChatVector.TinyTrainer/bin/$configuration/net10.0/ChatVector.TinyTrainer.dll"
    $output = & dotnet $trainer $Path $Text 2>&1
    if ($LASTEXITCODE -ne 0) { throw "The tiny trainer failed: $output" }
    Write-Verbose ($output -join "`n")
    $Path
}
