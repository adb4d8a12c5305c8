# Import-MergeConfig: a mergekit config runs as the equivalent pipeline does, keeps the config in the output,
# takes -Parameter overrides, and refuses a bad config before anything is read or written.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:trio = New-TestTrio -Root (Join-Path $TestDrive 'trio')
    # A second fine-tune of the base with its vocabulary (the trio's cp extends it, which only Add-ChatVector handles).
    $script:other = Join-Path $trio.Root 'other'
    $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 14; Vocab = 40 }).Write($other)
    $script:ImportId = 'ChatVector.PowerShell.Cmdlets.ImportMergeConfigCommand'

    # Every tensor of the merge at $Out holds other's bytes where its name is like $OtherLike, the base's elsewhere.
    function Assert-BaseOrOther([string] $Out, [string] $OtherLike) {
        $merged = Read-IndependentBytes $Out
        $base = Read-IndependentBytes $trio.Base
        $otherBytes = Read-IndependentBytes $other
        foreach ($name in $base.Keys) {
            [byte[]]$expected = if ($name -like $OtherLike) { $otherBytes[$name] } else { $base[$name] }
            [Linq.Enumerable]::SequenceEqual($merged[$name], $expected) | Should -BeTrue -Because $name
        }
    }

    function New-Config([string] $Name, [string] $Text) {
        $path = Join-Path $trio.Root $Name
        Set-Content -LiteralPath $path -Value $Text
        $path
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

    It 'gives each tensor its own value from gradients (over the layers) and filters (by name), as the pipeline does per handle' {
        $graded = New-Config 'graded.yml' @'
merge_method: ties
base_model: base
models:
  - model: chat
    parameters:
      weight:
        - filter: self_attn
          value: 0.5
        - value: 1.0
  - model: other
    parameters:
      weight: 0.7
parameters:
  density: [0.2, 0.8]
dtype: float32
'@
        $fromConfig = Join-Path $TestDrive 'graded-config'
        Import-MergeConfig $graded | Export-SafeTensor $fromConfig
        # The trio has layers 0 and 1: t = 0 and 1, so density 0.2 and 0.8; tensors outside the layers take t = 0.
        $perHandle = Join-Path $TestDrive 'graded-pipeline'
        & {
            Get-ChatVector -Base $trio.Base -Chat $trio.Chat | ForEach-Object { $_.Ratio = if ($_.Name -like '*self_attn*') { 0.5 } else { 1.0 }; $_ }
            Get-ChatVector -Base $trio.Base -Chat $other -Ratio 0.7
        } | ForEach-Object { $_.Density = if ($_.Layer -eq 1) { 0.8 } else { 0.2 }; $_ } |
            Limit-ChatVector -Method Magnitude | Add-ChatVector -Model $trio.Base -Consensus Sum -Normalize -DType F32 | Export-SafeTensor $perHandle
        Assert-SameTensors $fromConfig $perHandle
    }

    It 'finds a gradient point out of range before anything is read' {
        $outOfRange = New-Config 'out-of-range.yml' @'
merge_method: ties
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
parameters:
  density: [0.2, 1.4]
'@
        $failure = { Import-MergeConfig $outOfRange } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "'density' must be a number between 0 and 1; it is 1.4"
    }

    It 'finds a Hugging Face id in the local cache (HF_HUB_CACHE), by refs/main or @revision, and names the folders it looked in when absent' {
        $hub = Join-Path $TestDrive 'hub'
        $model = Join-Path $hub 'models--acme--tiny-chat'
        $null = New-Item -ItemType Directory (Join-Path $model 'refs'), (Join-Path $model 'snapshots')
        Set-Content (Join-Path $model 'refs/main') -Value '0123abcd' -NoNewline
        Copy-Item -Recurse $trio.Chat (Join-Path $model 'snapshots/0123abcd')
        Copy-Item -Recurse $other (Join-Path $model 'snapshots/feedbeef') # another revision: another model
        $byId = New-Config 'by-id.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: acme/tiny-chat
    parameters: {weight: 1.0}
  - model: acme/tiny-chat@feedbeef
    parameters: {weight: 0.5}
dtype: float32
'@
        $byPath = New-Config 'by-path.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
  - model: other
    parameters: {weight: 0.5}
dtype: float32
'@
        $saved = $env:HF_HUB_CACHE
        try {
            $env:HF_HUB_CACHE = $hub
            Import-MergeConfig $byId | Export-SafeTensor (Join-Path $TestDrive 'by-id')
            Import-MergeConfig $byPath | Export-SafeTensor (Join-Path $TestDrive 'by-path')
            Assert-SameTensors (Join-Path $TestDrive 'by-id') (Join-Path $TestDrive 'by-path')
            $missing = New-Config 'missing-id.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: acme/absent`n    parameters: {weight: 1.0}`n"
            $failure = { Import-MergeConfig $missing } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
            $failure.Exception.Message | Should -Match ([regex]::Escape((Join-Path $hub 'models--acme--absent')))
            $failure.Exception.Message | Should -Match 'nothing is downloaded'
        }
        finally { $env:HF_HUB_CACHE = $saved }
    }

    It 'runs slerp: a gradient of t from 0 to 1 gives the base''s layer 0 and the other model''s layer 1, bit for bit' {
        $slerp = New-Config 'slerp.yml' @'
merge_method: slerp
base_model: base
models:
  - model: base
  - model: other
parameters:
  t: [0, 1]
'@
        $out = Join-Path $TestDrive 'slerp'
        Import-MergeConfig $slerp | Export-SafeTensor $out
        Assert-BaseOrOther $out 'model.layers.1.*' # t = 0 outside the layers
    }

    It 'reads a gradient at t = 1 in a slice of one layer, as mergekit''s plan_slice does' {
        # Two slices of one layer each: t = [0, 1] gives the other model's layers in both (t = 0 would give the base's).
        $slerp = New-Config 'slerp-one-layer.yml' @'
merge_method: slerp
base_model: base
slices:
  - sources:
      - model: base
        layer_range: [0, 1]
      - model: other
        layer_range: [0, 1]
  - sources:
      - model: base
        layer_range: [1, 2]
      - model: other
        layer_range: [1, 2]
parameters:
  t: [0, 1]
'@
        $out = Join-Path $TestDrive 'slerp-one-layer'
        Import-MergeConfig $slerp | Export-SafeTensor $out
        Assert-BaseOrOther $out 'model.layers.*'
    }

    It 'takes a slice''s own base_model over the config''s, and accepts residual_weight (mergekit reads it nowhere)' {
        # Slice 2 names other as its base: its layer is the one a config with base_model other gives, bit for bit, and
        # slice 1's the one the config's base_model (base) gives.
        $slices = @'
  - sources:
      - model: base
        layer_range: [0, 1]
      - model: other
        layer_range: [0, 1]
  - base_model: other
    residual_weight: 0.5
    sources:
      - model: base
        layer_range: [1, 2]
      - model: other
        layer_range: [1, 2]
'@
        $plain = $slices -replace '(?m)^  - base_model: other\r?\n    residual_weight: 0.5\r?\n    sources:', '  - sources:'
        $outputs = @{}
        foreach ($case in @{ Name = 'own'; Base = 'base'; Slices = $slices }, @{ Name = 'base'; Base = 'base'; Slices = $plain }, @{ Name = 'other'; Base = 'other'; Slices = $plain }) {
            $config = New-Config "slice-base-$($case.Name).yml" "merge_method: slerp`nbase_model: $($case.Base)`nparameters:`n  t: 0.25`ndtype: float32`nslices:`n$($case.Slices)"
            $out = Join-Path $TestDrive "slice-base-$($case.Name)"
            Import-MergeConfig $config | Export-SafeTensor $out
            $outputs[$case.Name] = Read-IndependentBytes $out
        }
        $plain | Should -Not -Match 'base_model'
        foreach ($name in $outputs.own.Keys) {
            $reference = if ($name -like 'model.layers.1.*') { 'other' } else { 'base' } # before and after the layers: the first and last slice's base
            if ($name -notlike 'model.layers.*' -and $name -notlike 'model.embed_tokens*') { $reference = 'other' }
            [Linq.Enumerable]::SequenceEqual($outputs.own[$name], $outputs[$reference][$name]) | Should -BeTrue -Because "$name as with base_model $reference"
        }
        [Linq.Enumerable]::SequenceEqual($outputs.base['model.layers.1.self_attn.q_proj.weight'], $outputs.other['model.layers.1.self_attn.q_proj.weight']) | Should -BeFalse
    }

    It 'takes mergekit''s modules: form for the one module of a LLaMA model (default), its parameters before the global ones' {
        $plain = New-Config 'module-plain.yml' "merge_method: slerp`nbase_model: base`nmodels:`n  - model: base`n  - model: other`nparameters:`n  t: 0.3`n"
        $module = New-Config 'module.yml' "merge_method: slerp`nbase_model: base`nparameters:`n  t: 0.9`nmodules:`n  default:`n    models:`n      - model: base`n      - model: other`n    parameters:`n      t: 0.3`n"
        $plainOut = Join-Path $TestDrive 'module-plain'
        $moduleOut = Join-Path $TestDrive 'module'
        Import-MergeConfig $plain | Export-SafeTensor $plainOut
        Import-MergeConfig $module | Export-SafeTensor $moduleOut
        $a = Read-IndependentBytes $plainOut
        $b = Read-IndependentBytes $moduleOut
        foreach ($name in $a.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $b[$name]) | Should -BeTrue -Because $name }
        # Another module name is a multi-module architecture's: named, with the form that works.
        $vision = New-Config 'module-vision.yml' "merge_method: slerp`nbase_model: base`nmodules:`n  vision_tower:`n    models:`n      - model: base`n      - model: other`n"
        { Import-MergeConfig $vision } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -ExpectedMessage "*'modules'*single-module models*'default'*"
    }

    It 'reads YAML 1.1 scalars as mergekit''s reader does: normalize: off is false, 1_0 is 10' {
        # (012 is octal in YAML 1.1: 10; a filter of "*" matches every tensor, as in mergekit)
        $spelled = New-Config 'yaml11.yml' ((Get-Content $ties -Raw) -replace 'density: 0.3', "density: [{filter: '*', value: 0.3}]`n  normalize: off`n  lambda: 012")
        $plain = New-Config 'yaml11-plain.yml' ((Get-Content $ties -Raw) -replace 'density: 0.3', "density: 0.3`n  normalize: false`n  lambda: 10")
        $outs = foreach ($config in $spelled, $plain) {
            $out = Join-Path $TestDrive ([IO.Path]::GetFileNameWithoutExtension($config))
            Import-MergeConfig $config | Export-SafeTensor $out
            $out
        }
        $a = Read-IndependentBytes $outs[0]
        $b = Read-IndependentBytes $outs[1]
        foreach ($name in $a.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $b[$name]) | Should -BeTrue -Because $name }
    }

    It 'falls back from a module''s filtered parameter to the global one where no filter matches, as mergekit does' {
        $module = New-Config 'module-fallback.yml' "merge_method: task_arithmetic`nbase_model: base`nparameters:`n  lambda: 2.0`nmodules:`n  default:`n    models:`n      - model: other`n        parameters: {weight: 0.5}`n    parameters:`n      lambda: [{filter: mlp, value: 0.5}]`ndtype: float32`n"
        $explicit = New-Config 'module-fallback-explicit.yml' "merge_method: task_arithmetic`nbase_model: base`nparameters:`n  lambda: [{filter: mlp, value: 0.5}, {value: 2.0}]`nmodels:`n  - model: other`n    parameters: {weight: 0.5}`ndtype: float32`n"
        $outs = foreach ($config in $module, $explicit) {
            $out = Join-Path $TestDrive ([IO.Path]::GetFileNameWithoutExtension($config))
            Import-MergeConfig $config | Export-SafeTensor $out
            Read-IndependentBytes $out
        }
        foreach ($name in $outs[0].Keys) { [Linq.Enumerable]::SequenceEqual($outs[0][$name], $outs[1][$name]) | Should -BeTrue -Because $name }
    }

    It 'runs linear slices without any base_model, as mergekit needs none: Σ w·x of the sources' {
        $config = New-Config 'linear-slices-nobase.yml' "merge_method: linear`nslices:`n  - sources:`n      - model: base`n        layer_range: [0, 2]`n        parameters: {weight: 0.25}`n      - model: other`n        layer_range: [0, 2]`n        parameters: {weight: 0.5}`nparameters:`n  normalize: false`ndtype: float32`n"
        $out = Join-Path $TestDrive 'linear-slices-nobase'
        Import-MergeConfig $config | Export-SafeTensor $out
        $merged = Read-IndependentTensors $out
        $base = Read-IndependentTensors $trio.Base
        $otherValues = Read-IndependentTensors $other
        foreach ($name in 'model.layers.1.mlp.up_proj.weight', 'model.norm.weight') {
            for ($i = 0; $i -lt 16; $i++) {
                $expected = 0.25 * $base[$name][$i] + 0.5 * $otherValues[$name][$i]
                [Math]::Abs($merged[$name][$i] - $expected) | Should -BeLessOrEqual (1e-6 * [Math]::Max(1, [Math]::Abs($expected))) -Because "$name[$i]"
            }
        }
    }

    It 'merges -Model as one of the models in Merge-ChatVector linear and karcher, as a config merges its base_model: the same bytes' {
        $karcherConfig = New-Config 'karcher-base.yml' "merge_method: karcher`nbase_model: base`nmodels:`n  - model: other`ndtype: float32`n"
        $configOut = Join-Path $TestDrive 'karcher-config'
        $pipelineOut = Join-Path $TestDrive 'karcher-pipeline'
        Import-MergeConfig $karcherConfig | Export-SafeTensor $configOut
        Get-ChatVector $trio.Base $other | Merge-ChatVector karcher -Model $trio.Base -DType F32 | Export-SafeTensor $pipelineOut
        $a = Read-IndependentBytes $configOut
        $b = Read-IndependentBytes $pipelineOut
        foreach ($name in $a.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $b[$name]) | Should -BeTrue -Because $name }

        # linear without normalize: Σ w·x with -Model weighted by -Parameter's weight (the vector's -Ratio its own).
        $linearOut = Join-Path $TestDrive 'pipeline-linear'
        Get-ChatVector $trio.Base $other -Ratio 0.5 | Merge-ChatVector linear -Model $trio.Base -Parameter @{ weight = 0.25; normalize = $false } -DType F32 | Export-SafeTensor $linearOut
        $merged = Read-IndependentTensors $linearOut
        $base = Read-IndependentTensors $trio.Base
        $otherValues = Read-IndependentTensors $other
        $name = 'model.layers.0.self_attn.q_proj.weight'
        for ($i = 0; $i -lt 16; $i++) {
            $expected = 0.25 * $base[$name][$i] + 0.5 * $otherValues[$name][$i]
            [Math]::Abs($merged[$name][$i] - $expected) | Should -BeLessOrEqual (1e-6 * [Math]::Max(1, [Math]::Abs($expected))) -Because "$name[$i]"
        }
        # Without a weight for -Model, named as the config's base_model is.
        $failed = $null
        try { Get-ChatVector $trio.Base $other -Ratio 0.5 | Merge-ChatVector linear -Model $trio.Base -ErrorVariable failed -ErrorAction SilentlyContinue | Out-Null } catch { }
        ($failed | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and "$_" -like "*parameter 'weight' is required*-Model is one of linear's models*" }) | Should -Not -BeNullOrEmpty
    }

    It 'merges the base_model of linear as one of its models, with its weight, as mergekit does' {
        $linear = New-Config 'linear-base.yml' @'
merge_method: linear
base_model: base
models:
  - model: base
    parameters: {weight: 0.75}
  - model: other
    parameters: {weight: 0.25}
dtype: float32
'@
        $out = Join-Path $TestDrive 'linear-base'
        Import-MergeConfig $linear | Export-SafeTensor $out
        $merged = Read-IndependentTensors $out
        $base = Read-IndependentTensors $trio.Base
        $otherValues = Read-IndependentTensors $other
        $name = 'model.norm.weight'
        for ($i = 0; $i -lt $base[$name].Count; $i++) {
            $expected = 0.75 * $base[$name][$i] + 0.25 * $otherValues[$name][$i]
            [Math]::Abs($merged[$name][$i] - $expected) | Should -BeLessOrEqual (1e-6 * [Math]::Max(1, [Math]::Abs($expected))) -Because "$name[$i]"
        }
        # Not listed and without a global weight, the base has none: named, nothing written.
        $unweighted = New-Config 'linear-unweighted.yml' "merge_method: linear`nbase_model: base`nmodels:`n  - model: other`n    parameters: {weight: 1.0}`n"
        $failed = Join-Path $TestDrive 'linear-unweighted'
        { Import-MergeConfig $unweighted -ErrorAction Stop | Export-SafeTensor $failed } | Should -Throw -ExpectedMessage "*model 'base'*parameter 'weight' is required*"
        Test-Path $failed | Should -BeFalse
    }

    It 'refuses slerp with more than one model besides the base' {
        $three = New-Config 'slerp-three.yml' "merge_method: slerp`nbase_model: base`nmodels:`n  - model: chat`n  - model: other`nparameters:`n  t: 0.5`n"
        $failure = { Import-MergeConfig $three } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match 'slerp merges the base and 1 other model; the config gives 2'
    }

    It 'scales the mix by lambda before adding it, as a ratio scaled by lambda does; int8_mask is accepted' {
        $lambda = New-Config 'lambda.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
parameters:
  lambda: 0.5
  int8_mask: true
dtype: float32
'@
        Import-MergeConfig $lambda | Export-SafeTensor (Join-Path $TestDrive 'lambda')
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 0.5 | Add-ChatVector -Model $trio.Base -DType F32 | Export-SafeTensor (Join-Path $TestDrive 'half-ratio')
        Assert-SameTensors (Join-Path $TestDrive 'lambda') (Join-Path $TestDrive 'half-ratio')
    }

    It 'writes chat_template into tokenizer_config.json: Jinja text as given, auto as most merged models carry it' {
        $jinja = New-Config 'jinja.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat
    parameters: {weight: 1.0}
chat_template: "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}"
'@
        Import-MergeConfig $jinja | Export-SafeTensor (Join-Path $TestDrive 'jinja')
        (Get-Content (Join-Path $TestDrive 'jinja/tokenizer_config.json') -Raw | ConvertFrom-Json).chat_template |
            Should -BeExactly '{% for m in messages %}<|{{ m.role }}|>{{ m.content }}{% endfor %}'
        $auto = New-Config 'auto.yml' "merge_method: task_arithmetic`nbase_model: base`nmodels:`n  - model: chat`n    parameters: {weight: 1.0}`n  - model: other`n    parameters: {weight: 1.0}`nchat_template: auto`n"
        Import-MergeConfig $auto | Export-SafeTensor (Join-Path $TestDrive 'auto')
        $expected = (Get-Content (Join-Path $trio.Chat 'tokenizer_config.json') -Raw | ConvertFrom-Json).chat_template
        $expected | Should -Not -BeNullOrEmpty
        (Get-Content (Join-Path $TestDrive 'auto/tokenizer_config.json') -Raw | ConvertFrom-Json).chat_template | Should -BeExactly $expected
    }

    It 'runs passthrough: one model byte for byte, or scaled' {
        $copy = New-Config 'passthrough.yml' "merge_method: passthrough`nmodels:`n  - model: chat`n"
        Import-MergeConfig $copy | Export-SafeTensor (Join-Path $TestDrive 'passthrough')
        $written = Read-IndependentBytes (Join-Path $TestDrive 'passthrough'); $chatBytes = Read-IndependentBytes $trio.Chat
        foreach ($name in $chatBytes.Keys) { [Linq.Enumerable]::SequenceEqual($written[$name], $chatBytes[$name]) | Should -BeTrue -Because $name }
        $scaled = New-Config 'scaled.yml' "merge_method: passthrough`nmodels:`n  - model: chat`n    parameters: {scale: 0.5}`ndtype: float32`n"
        Import-MergeConfig $scaled | Export-SafeTensor (Join-Path $TestDrive 'scaled')
        $values = Read-IndependentTensors (Join-Path $TestDrive 'scaled'); $chat = Read-IndependentTensors $trio.Chat
        foreach ($name in $chat.Keys) {
            if ($name -like '*.weight' -and $chat[$name].Count -gt 0) { $values[$name][0] | Should -Be ([double][float]($chat[$name][0] * 0.5)) -Because $name }
        }
    }

    It 'stacks layers with slices and passthrough: renumbered, bytes kept, num_hidden_layers updated' {
        $stack = New-Config 'stack.yml' @'
merge_method: passthrough
slices:
  - sources:
      - model: chat
        layer_range: [0, 2]
  - sources:
      - model: other
        layer_range: [1, 2]
'@
        $out = Join-Path $TestDrive 'stacked'
        Import-MergeConfig $stack | Export-SafeTensor $out
        $written = Read-IndependentBytes $out
        $chatBytes = Read-IndependentBytes $trio.Chat; $otherBytes = Read-IndependentBytes $other
        foreach ($name in $written.Keys) {
            [byte[]]$expected = if ($name -like 'model.layers.2.*') { $otherBytes[$name -replace 'layers\.2\.', 'layers.1.'] }
                elseif ($name -like 'model.layers.*' -or $name -eq 'model.embed_tokens.weight') { $chatBytes[$name] }
                else { $otherBytes[$name] } # after the layers: the last slice's model
            [Linq.Enumerable]::SequenceEqual($written[$name], $expected) | Should -BeTrue -Because $name
        }
        ($written.Keys | Where-Object { $_ -like 'model.layers.2.*' }).Count | Should -BeGreaterThan 0
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).num_hidden_layers | Should -Be 3
    }

    It 'merges slices with the method: a TIES slice over every layer gives the bytes of the same config without slices' {
        $sliced = New-Config 'sliced-ties.yml' @'
merge_method: ties
base_model: base
slices:
  - sources:
      - model: base
        layer_range: [0, 2]
      - model: chat
        layer_range: [0, 2]
        parameters: {weight: 1.0}
parameters:
  density: 0.3
dtype: float32
'@
        $plain = New-Config 'plain-ties.yml' "merge_method: ties`nbase_model: base`nmodels:`n  - model: chat`n    parameters: {weight: 1.0}`nparameters:`n  density: 0.3`ndtype: float32`n"
        Import-MergeConfig $sliced | Export-SafeTensor (Join-Path $TestDrive 'sliced-ties')
        Import-MergeConfig $plain | Export-SafeTensor (Join-Path $TestDrive 'plain-ties')
        Assert-SameTensors (Join-Path $TestDrive 'sliced-ties') (Join-Path $TestDrive 'plain-ties')
    }

    It 'refuses a layer range past a model''s layers, and sources of unequal length, before anything is read' {
        $bad = New-Config 'bad-slices.yml' @'
merge_method: passthrough
slices:
  - sources:
      - model: chat
        layer_range: [0, 5]
'@
        $failure = { Import-MergeConfig $bad } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "model 'chat' has 2 layers; layer_range \[0, 5\] reaches past them"
        $unequal = New-Config 'unequal.yml' "merge_method: ties`nbase_model: base`nslices:`n  - sources:`n      - model: base`n        layer_range: [0, 2]`n      - model: chat`n        layer_range: [0, 1]`n"
        $failure = { Import-MergeConfig $unequal } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match 'its sources take 2, 1 layers'
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
        # sce has no rule for embeddings of other sizes in mergekit (task_arithmetic would cut cp's to the base's rows).
        $extended = New-Config 'extended.yml' @'
merge_method: sce
base_model: base
models:
  - model: cp
'@
        $failure = { Import-MergeConfig $extended } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match "tensor 'model.embed_tokens.weight' has a different number of rows \(vocabulary size\) in the models \(the base \[40, 16\], 'cp' \[44, 16\]\); sce does not merge"
    }

    It 'names the file and line of YAML that does not parse' {
        $broken = New-Config 'broken.yml' "merge_method: ties`nmodels: [unclosed`n"
        $failure = { Import-MergeConfig $broken } | Should -Throw -ErrorId "MergeConfigInvalid,$ImportId" -PassThru
        $failure.Exception.Message | Should -Match 'broken\.yml.*not valid YAML at line'
    }
}
