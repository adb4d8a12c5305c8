# Import-MergeConfig: a mergekit config runs as the equivalent pipeline does, keeps the config in the output,
# takes -Parameter overrides, and refuses a bad config before anything is read or written.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:trio = New-TestTrio -Root (Join-Path $TestDrive 'trio')
    # A second fine-tune of the base with its vocabulary (the trio's cp extends it, which only Add-ChatVector handles).
    $script:other = Join-Path $trio.Root 'other'
    $null = ([ChatVector.Tests.Shared.LlamaModelBuilder]@{ Seed = 14; Vocab = 40 }).Write($other)
    $script:ImportId = 'ChatVector.PowerShell.Cmdlets.ImportMergeConfigCommand'

    function New-Config([string] $Name, [string] $Text) {
        $path = Join-Path $trio.Root $Name
        Set-Content -LiteralPath $path -Value $Text
        $path
    }

    function Assert-SameTensors([string] $Actual, [string] $Expected) {
        $a = Read-IndependentBytes $Actual
        $e = Read-IndependentBytes $Expected
        $a.Count | Should -Be $e.Count
        foreach ($name in $e.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $e[$name]) | Should -BeTrue -Because $name }
    }

    # TIES of chat and other onto the base, as mergekit's examples write it (the base listed among the models).
    $script:ties = New-Config 'ties.yml' @'
merge_method: ties
base_model: base
models:
  - model: base
  - model: chat
    parameters:
      weight: 1.0
  - model: other
    parameters:
      weight: 0.5
parameters:
  density: 0.3
dtype: float32
'@
}

Describe 'Import-MergeConfig' -Tag 'Config' {
    It 'writes the bytes of the pipeline that composes the method: Limit-ChatVector | Add-ChatVector -Consensus Sum -Normalize' {
        $fromConfig = Join-Path $TestDrive 'from-config'
        Import-MergeConfig $ties | Export-SafeTensor $fromConfig
        $fromPipeline = Join-Path $TestDrive 'from-pipeline'
        & { Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 1.0; Get-ChatVector -Base $trio.Base -Chat $other -Ratio 0.5 } |
            Limit-ChatVector -Density 0.3 -Method Magnitude |
            Add-ChatVector -Model $trio.Base -Consensus Sum -Normalize -DType F32 | Export-SafeTensor $fromPipeline
        Assert-SameTensors $fromConfig $fromPipeline
    }

    It 'keeps the config beside the weights and in the model card, and copies the base model''s side files' {
        $out = Join-Path $TestDrive 'kept'
        Import-MergeConfig -Path $ties | Export-SafeTensor $out
        Get-Content (Join-Path $out 'mergekit_config.yml') -Raw | Should -Be (Get-Content $ties -Raw)
        Get-Content (Join-Path $out 'README.md') -Raw | Should -Match 'Method: `ties`'
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).torch_dtype | Should -Be 'float32'
        Test-Path (Join-Path $out 'tokenizer.json') | Should -BeTrue
    }

    It '-Parameter overrides a global parameter, for sweeps' {
        $swept = Join-Path $TestDrive 'swept'
        Import-MergeConfig $ties -Parameter @{ density = 0.6 } | Export-SafeTensor $swept
        $pipeline = Join-Path $TestDrive 'pipeline-0.6'
        & { Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 1.0; Get-ChatVector -Base $trio.Base -Chat $other -Ratio 0.5 } |
            Limit-ChatVector -Density 0.6 | Add-ChatVector -Model $trio.Base -Consensus Sum -Normalize -DType F32 | Export-SafeTensor $pipeline
        Assert-SameTensors $swept $pipeline
    }

    It 'takes configs from Get-ChildItem by FullName' {
        $handles = Get-ChildItem $ties | Import-MergeConfig
        $handles.Count | Should -Be (Get-SafeTensor $trio.Base).Count
        ($handles | Where-Object Kind -eq 'Merged').Count | Should -BeGreaterThan 0
    }

    It 'reports every problem of a bad config at once, naming each, before anything is read or written' {
        $bad = New-Config 'bad.yml' @'
merge_method: tie
base_model: base
models:
  - model: chat
    parameters:
      weight: 1.0
      densty: 0.5
  - model: missing-model
    parameters:
      weight: 0.5
normalise: true
'@
        $out = Join-Path $TestDrive 'bad-out'
        $failure = { Import-MergeConfig $bad | Export-SafeTensor $out } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $message = $failure.Exception.Message
        $message | Should -Match "no merge method 'tie'; did you mean 'ties'"
        $message | Should -Match "unknown key 'normalise'.*did you mean"
        $message | Should -Match "model 'missing-model'.*no model folder"
        $failure.CategoryInfo.Category | Should -Be 'InvalidData'
        Test-Path $out | Should -BeFalse
    }

    It 'refuses parameters the method does not take, and a missing weight' {
        $noWeight = New-Config 'no-weight.yml' @'
merge_method: dare_ties
base_model: base
models:
  - model: chat
    parameters:
      densty: 0.5
'@
        $failure = { Import-MergeConfig $noWeight } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "no parameter 'densty'; did you mean 'density'"
    }

    It 'names a model whose tensors cannot merge with the base''s, before anything is read' {
        $extended = New-Config 'extended.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: cp
    parameters: {weight: 1.0}
'@
        $failure = { Import-MergeConfig $extended } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "model 'cp': tensor 'model.embed_tokens.weight': base shape \[40, 16\], chat shape \[44, 16\]"
    }

    It 'refuses mergekit keys it does not run yet by name rather than ignoring them' {
        $slices = New-Config 'slices.yml' @'
merge_method: ties
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
tokenizer_source: union
'@
        $failure = { Import-MergeConfig $slices } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "'tokenizer_source'.*does not run it yet"
    }

    It 'names the file and line of YAML that does not parse' {
        $broken = New-Config 'broken.yml' "merge_method: ties`nmodels: [unclosed`n"
        $failure = { Import-MergeConfig $broken } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match 'broken\.yml.*not valid YAML at line'
    }
}
