<#
.SYNOPSIS
    The Chat Vector effect at toy scale, end to end: train four tiny models, merge through the cmdlets, measure.
.DESCRIPTION
    From a fresh clone (the .NET SDK is all it needs):
        dotnet tool restore && dotnet pwsh -NoProfile -File examples/toy-chat-vector.ps1
    1. examples/ToyChatVector (TorchSharp) makes two toy languages, A and B (one grammar, two lexicons),
       and trains base (A text), chat (base + A instructions), cp (base + B text) and cp-ft (cp + a few B
       instructions), written as Hugging Face folders.
    2. Through the cmdlets only: Get-ChatVector -Base base -Chat chat | Add-ChatVector -Model cp -Ratio r |
       Export-SafeTensor, for each ratio, on cp and on cp-ft.
    3. Each merged model (and chat) answers the held-out B prompts with Invoke-ChatVectorModel (in format:
       stops with eos after an answer; exact: the answer is right) and Measure-ChatVectorModel gives its
       perplexity on held-out B text. Where the module has no such cmdlets yet, the training side's own
       forward pass evaluates instead, and the output says so.
    Writes the table as rows (returned), results.json and a PNG chart of the sweep under -Output.
.PARAMETER Size
    full: the README experiment (docs/toy-chat-vector.md; 8 to 12 min of training on 2 cores); ci: the reduced run of the Toy tests.
.PARAMETER SkipEmbedding
    Merges with the paper's --skip_embed recipe: cp keeps its own embedding and LM head, except the rows of the
    chat tokens (<user>, <assistant>, <eos>), taken from chat (-SkipEmbedding -SpecialTokenMap).
.PARAMETER ModulePath
    The module to merge and evaluate with (default: this repository's ChatVector.psd1, built unless -NoBuild).
.PARAMETER SkipTraining
    Merges and evaluates the models an earlier run trained into -Output (same -Seed and -Size), without training
    again: training is deterministic (the same bytes on any x86-64 CPU), so only a changed module needs a rerun.
.PARAMETER PassThru
    Also returns the table's rows as objects (Model, Series, Ratio, InFormat, Exact, Perplexity).
.PARAMETER Evaluator
    Auto: the cmdlets where the module has them, else the training side's evaluator. Cmdlets or Trainer force one.
#>
param(
    [ValidateSet('full', 'ci')] [string] $Size = 'full',
    [int] $Seed = 1,
    [string] $Output = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-toy'),
    [double[]] $Ratios = @(0, 0.25, 0.5, 0.75, 1),
    [ValidateSet('Auto', 'Cmdlets', 'Trainer')] [string] $Evaluator = 'Auto',
    [switch] $SkipEmbedding,
    [string] $ModulePath,
    [switch] $NoBuild,
    [switch] $SkipTraining,
    [switch] $PassThru
)
$ErrorActionPreference = 'Stop'
$repo = Split-Path -Parent $PSScriptRoot
$project = Join-Path $PSScriptRoot 'ToyChatVector'
if (-not $NoBuild) {
    & (Join-Path $repo 'build.ps1') -Configuration Release # the solution includes examples/ToyChatVector
}

# The training side pins libtorch's CPU kernels itself. The evaluation computes through the module, whose
# kernels are pinned only when CHATVECTOR_REPRODUCIBLE_KERNELS=1 is set before libtorch loads; so that the
# whole table is the same on any x86-64 CPU, a process that has not started that way (or has the module
# loaded already) runs the experiment in a child pwsh that has, and passes its rows on (rows.json).
if ($env:CHATVECTOR_REPRODUCIBLE_KERNELS -ne '1' -or (Get-Module ChatVector)) {
    function ConvertTo-ArgumentText($Value) {
        if ($Value -is [switch]) { return '$' + $Value.IsPresent }
        if ($Value -is [array]) { return (@($Value | ForEach-Object { ConvertTo-ArgumentText $_ }) -join ',') }
        if ($Value -is [double] -or $Value -is [int]) { return $Value.ToString([cultureinfo]::InvariantCulture) }
        return "'" + ($Value -replace "'", "''") + "'"
    }
    $Output = [System.IO.Path]::GetFullPath($Output)
    $command = "& '{0}' -NoBuild:`$true -Output:{1}" -f ($PSCommandPath -replace "'", "''"), (ConvertTo-ArgumentText $Output)
    foreach ($bound in $PSBoundParameters.GetEnumerator()) {
        if ($bound.Key -notin 'NoBuild', 'Output', 'PassThru') { $command += " -{0}:{1}" -f $bound.Key, (ConvertTo-ArgumentText $bound.Value) }
    }
    $pwsh = [Environment]::ProcessPath # under the dotnet tool that is dotnet, running $PSHOME/pwsh.dll
    $pwshArguments = @(if ([IO.Path]::GetFileNameWithoutExtension($pwsh) -ne 'pwsh') { Join-Path $PSHOME 'pwsh.dll' })
    $previous = $env:CHATVECTOR_REPRODUCIBLE_KERNELS
    $env:CHATVECTOR_REPRODUCIBLE_KERNELS = '1'
    try {
        & $pwsh @pwshArguments -NoProfile -NonInteractive -Command $command | ForEach-Object { Write-Host $_ }
        if ($LASTEXITCODE) { throw "The toy experiment failed in its child pwsh (exit code $LASTEXITCODE)." }
    }
    finally { $env:CHATVECTOR_REPRODUCIBLE_KERNELS = $previous }
    if ($PassThru) { Get-Content (Join-Path $Output 'rows.json') -Raw | ConvertFrom-Json }
    return
}
if (-not $ModulePath) { $ModulePath = Join-Path $repo 'ChatVector.psd1' }
Import-Module $ModulePath -Force
$toyDll = [System.IO.Path]::Combine($project, 'bin', 'Release', 'net10.0', 'ToyChatVector.dll')
if (-not (Test-Path $toyDll)) { throw "$toyDll is missing: build it with 'dotnet build $project -c Release' (or run without -NoBuild)." }

# Runs the training side; its output lines go to the host, the last line (JSON, where a verb prints one) is returned.
function Invoke-Toy {
    $lines = & dotnet $toyDll @args
    if ($LASTEXITCODE) { throw "ToyChatVector $($args[0]) failed (exit code $LASTEXITCODE): $($lines -join "`n")" }
    $lines
}

$Output = [System.IO.Path]::GetFullPath($Output)
$models = Join-Path $Output 'models'
$data = Join-Path $models 'data'
$timer = [System.Diagnostics.Stopwatch]::StartNew()

if ($SkipTraining) {
    foreach ($name in 'base', 'chat', 'cp', 'cp-ft', 'data', 'data-A') {
        if (-not (Test-Path (Join-Path $models $name))) { throw "-SkipTraining: $(Join-Path $models $name) is missing; run once without -SkipTraining to train it." }
    }
    Write-Host "== Reusing the models trained in $models (-SkipTraining)"
}
else {
    Write-Host "== Training base, chat, cp, cp-ft (size $Size, seed $Seed) into $models"
    & dotnet $toyDll train --out $models --seed $Seed --size $Size | ForEach-Object { Write-Host $_ }
    if ($LASTEXITCODE) { throw "ToyChatVector train failed (exit code $LASTEXITCODE)." }
}
$trainSeconds = $timer.Elapsed.TotalSeconds

Write-Host ("== Merging through the cmdlets: Get-ChatVector -Base base -Chat chat | Add-ChatVector -Model <cp> -Ratio r{0} | Export-SafeTensor" -f
    $(if ($SkipEmbedding) { ' -SkipEmbedding -SpecialTokenMap <chat tokens>' }))
$recipe = @{}
if ($SkipEmbedding) {
    # The chat tokens' rows come from chat: the ids of <user>, <assistant> and <eos> in the toy tokenizer.json.
    $vocab = (Get-Content (Join-Path $models 'base/tokenizer.json') -Raw | ConvertFrom-Json).model.vocab
    $chatTokens = @{}
    foreach ($token in '<user>', '<assistant>', '<eos>') { $chatTokens[[int]$vocab.$token] = [int]$vocab.$token }
    $recipe = @{ SkipEmbedding = $true; SpecialTokenMap = $chatTokens }
}
$candidates = [System.Collections.Generic.List[object]]::new()
foreach ($series in @(@{ Name = 'cp'; Folder = 'cp' }, @{ Name = 'cp+FT'; Folder = 'cp-ft' })) {
    foreach ($ratio in $Ratios) {
        $label = if ($ratio -eq 0) { $series.Name } else { '{0} + {1}·v' -f $series.Name, $ratio }
        $target = Join-Path $Output ('merged/{0}-r{1}' -f $series.Folder, $ratio.ToString([cultureinfo]::InvariantCulture))
        Get-ChatVector -Base (Join-Path $models 'base') -Chat (Join-Path $models 'chat') |
            Add-ChatVector -Model (Join-Path $models $series.Folder) -Ratio $ratio @recipe |
            Export-SafeTensor $target -Force | Out-Null
        $candidates.Add([pscustomobject]@{ Model = $label; Series = $series.Name; Ratio = $ratio; Folder = $target; Data = $data })
    }
}
$candidates.Add([pscustomobject]@{ Model = 'chat (on B)'; Series = 'chat'; Ratio = [double]::NaN; Folder = (Join-Path $models 'chat'); Data = $data })
# The ceiling: chat on held-out A prompts and A text, its own language.
$candidates.Add([pscustomobject]@{ Model = 'chat on A prompts, A text (reference)'; Series = 'chat-A'; Ratio = [double]::NaN; Folder = (Join-Path $models 'chat'); Data = (Join-Path $models 'data-A') })
$mergeSeconds = $timer.Elapsed.TotalSeconds - $trainSeconds

$haveCmdlets = [bool](Get-Command Invoke-ChatVectorModel, Measure-ChatVectorModel -ErrorAction Ignore | Measure-Object | Where-Object Count -EQ 2)
$useCmdlets = switch ($Evaluator) { 'Cmdlets' { $true } 'Trainer' { $false } default { $haveCmdlets } }
if ($useCmdlets -and -not $haveCmdlets) { throw 'This build of the module has no Invoke-ChatVectorModel/Measure-ChatVectorModel; use -Evaluator Trainer.' }
if ($useCmdlets) {
    Write-Host ("== Evaluating with Invoke-ChatVectorModel ({0} held-out B prompts) and Measure-ChatVectorModel (held-out B text)" -f
        @(Get-Content (Join-Path $data 'prompts.txt')).Count)
}
else {
    Write-Host "== Evaluating with the training side's own forward pass (ToyChatVector eval), NOT the cmdlets:" -ForegroundColor Yellow
    Write-Host '   Invoke-ChatVectorModel / Measure-ChatVectorModel are not in this build of the module.' -ForegroundColor Yellow
}

# In-format and exact rates from the generated ids (judged by the training side, one definition of "right"),
# and the token-weighted mean NLL over the held-out text (each line scores its T-1 next-token predictions).
function Measure-Candidate {
    param($Folder, $Data)
    if (-not $useCmdlets) { return Invoke-Toy eval --model $Folder --data $Data | Select-Object -Last 1 | ConvertFrom-Json }
    $prompts = @(Get-Content (Join-Path $Data 'prompts.txt'))
    $text = @(Get-Content (Join-Path $Data 'text.txt'))
    $generated = Join-Path $Folder ('toy-generated-{0}.txt' -f (Split-Path -Leaf $Data))
    # Generated first, written after: Set-Content would otherwise create the file in the model folder while
    # Invoke-ChatVectorModel is still opening that folder for the next prompt.
    $answers = @($prompts | ForEach-Object { (Invoke-ChatVectorModel -Model $Folder -Prompt $_ -MaxNewTokens 24).TokenIds -join ' ' })
    Set-Content $generated -Value $answers
    $score = Invoke-Toy score --data $Data --generated $generated | Select-Object -Last 1 | ConvertFrom-Json
    $nll = 0.0; $predictions = 0
    foreach ($measured in Measure-ChatVectorModel -Model $Folder -Text $text) {
        $nll += $measured.NegativeLogLikelihood * ($measured.Tokens - 1)
        $predictions += $measured.Tokens - 1
    }
    [pscustomobject]@{ InFormat = $score.InFormat; Exact = $score.Exact; Perplexity = [math]::Exp($nll / $predictions) }
}

$rows = foreach ($candidate in $candidates) {
    $score = Measure-Candidate $candidate.Folder $candidate.Data
    [pscustomobject]@{
        Model        = $candidate.Model
        Series       = $candidate.Series
        Ratio        = $candidate.Ratio
        InFormat     = [math]::Round([double]$score.InFormat, 1)
        Exact        = [math]::Round([double]$score.Exact, 1)
        Perplexity   = [math]::Round([double]$score.Perplexity, 3)
    }
}
$evaluateSeconds = $timer.Elapsed.TotalSeconds - $trainSeconds - $mergeSeconds

$results = Join-Path $Output 'results.json'
ConvertTo-Json @($rows | Where-Object Series -In 'cp', 'cp+FT') | Set-Content $results
ConvertTo-Json @($rows) | Set-Content (Join-Path $Output 'rows.json')
$chart = Join-Path $Output 'toy-chat-vector.png'
$evaluatedBy = if ($useCmdlets) { 'cmdlets' } else { 'trainer' }
Invoke-Toy chart --results $results --out $chart --title "Chat vector, toy languages (size $Size, seed $Seed, $evaluatedBy)" | Out-Null

Write-Host ''
Write-Host "| model (on held-out B) | in format % | exact % | B perplexity |"
Write-Host '|---|---:|---:|---:|'
foreach ($row in $rows) { Write-Host ('| {0} | {1:F1} | {2:F1} | {3:F3} |' -f $row.Model, $row.InFormat, $row.Exact, $row.Perplexity) }
Write-Host ''
Write-Host ('size {0}, seed {1}, {2} prompts, evaluated by the {3}; train {4:F0} s, merge {5:F0} s, evaluate {6:F0} s' -f
    $Size, $Seed, @(Get-Content (Join-Path $data 'prompts.txt')).Count, $evaluatedBy, $trainSeconds, $mergeSeconds, $evaluateSeconds)
Write-Host "Chart: $chart"
if ($PassThru) { $rows }
