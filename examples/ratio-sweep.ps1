<#
.SYNOPSIS
    A Chat Vector ratio sweep in one pipeline: merge at several ratios and measure each merge, writing nothing.
.DESCRIPTION
    Runs on the tiny models in examples/tiny (random weights, word-level tokenizers):
        dotnet tool restore && dotnet pwsh -NoProfile -File examples/ratio-sweep.ps1
    Each ForEach-Object iteration runs one Add-ChatVector, whose handles form one model for
    Measure-ChatVectorModel; the merged tensors are computed as its forward pass reads each layer, so no
    candidate is written to disk. The same pipeline works on real models: swap the folders and the text
    file (for the paper's question, target-language text such as ko.txt), then read the answers with
    Invoke-ChatVectorModel at the best ratios.
#>
param(
    [double[]] $Ratio = @(0, 0.25, 0.5, 0.75, 1),
    [string] $Text = 'hello the cat sat on the mat . 안녕하세요 고양이 감사합니다',
    [switch] $NoBuild
)
. (Join-Path $PSScriptRoot 'Import-Example.ps1')
$chat, $cp = $chatModel, $cpModel

'== Perplexity of cp and chat on the text'
Measure-ChatVectorModel -Model $cp, $chat -Text $Text | Out-Default

'== cp + ratio x (chat - base), for each ratio, measured straight from the pipeline'
$sweep = $Ratio | ForEach-Object {
    Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio $_
} | Measure-ChatVectorModel -Text $Text
$sweep | Out-Default

$best = $sweep | Sort-Object NegativeLogLikelihood | Select-Object -First 1
"== Lowest perplexity at ratio $($best.Ratio); write that merge and ask it something"
$merged = [System.IO.Path]::Combine([System.IO.Path]::GetTempPath(), 'chatvector-sweep', "ratio-$($best.Ratio)")
Get-ChatVector -Base $base -Chat $chat | Add-ChatVector -Model $cp -Ratio $best.Ratio | Export-SafeTensor $merged -Force
Invoke-ChatVectorModel -Model $merged -Prompt 'hello' -ChatTemplate -MaxNewTokens 8 | Out-Default
"(random tiny weights: the words are noise; the pipeline is the point)"
