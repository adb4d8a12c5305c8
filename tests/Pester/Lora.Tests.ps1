# LoRA adapters: Get-LoraVector reads an adapter written by hand in PEFT's layout as vectors that merge as PEFT merges
# them, pipe into the other cmdlets like any vector, leave the model's tokenizer settings alone without a warning when
# the adapter ships no tokenizer, refuse what is not an additive change before anything is written, and a mergekit
# config's model+lora runs the same code.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:ErrorActionPreference = 'Continue'
    $script:trio = New-TestTrio -Root (Join-Path $TestDrive 'trio')
    $script:GetId = 'ChatVector.PowerShell.Cmdlets.GetLoraVectorCommand'
    $script:Kit = [ChatVector.TestKit.PeftAdapterFolder]
    $script:Q0 = 'model.layers.0.self_attn.q_proj'
    $script:Embed = 'model.embed_tokens'
    # The trio's models: hidden 16, vocabulary 40.
    $script:Rank = 4
    $script:Alpha = 8

    # The adapter every case uses: q_proj of layer 0 (linear factors), the embedding (lora_embedding_A/B), and the LM
    # head saved whole (modules_to_save), each a few bf16 steps from the base's values, as a fine-tune's change is.
    $script:Factors = @{
        QA = $Kit::Factor($Rank, 16, 1, 0.1); QB = $Kit::Factor(16, $Rank, 2, 0.01)
        EA = $Kit::Factor($Rank, 40, 3, 0.1); EB = $Kit::Factor(16, $Rank, 4, 0.01)
    }
    $script:SavedHead = [float[]]@(for ($i = 0; $i -lt 640; $i++) {
        [ChatVector.TestKit.Independent.Bf16]::ToFloat([ChatVector.TestKit.Independent.Bf16]::FromFloat($trio.BaseValues['lm_head.weight'][$i] + (($i % 5) - 2) * 0.004))
    })
    function New-Adapter([string] $Name, [hashtable] $Overrides = @{}, [object[]] $Extra = @()) {
        $folder = Join-Path $TestDrive $Name
        $config = @{ modules_to_save = @('lm_head') }
        foreach ($key in $Overrides.Keys) { $config[$key] = $Overrides[$key] }
        $dictionary = [Collections.Generic.Dictionary[string, object]]::new()
        foreach ($key in $config.Keys) { $dictionary[$key] = $config[$key] }
        $tensors = [Collections.Generic.List[ChatVector.TestKit.PeftTensor]]::new()
        $tensors.Add([ChatVector.TestKit.PeftTensor]::new($Kit::LoraA($Q0), [long[]]@($Rank, 16), $Factors.QA))
        $tensors.Add([ChatVector.TestKit.PeftTensor]::new($Kit::LoraB($Q0), [long[]]@(16, $Rank), $Factors.QB))
        $tensors.Add([ChatVector.TestKit.PeftTensor]::new($Kit::EmbeddingA($Embed), [long[]]@($Rank, 40), $Factors.EA))
        $tensors.Add([ChatVector.TestKit.PeftTensor]::new($Kit::EmbeddingB($Embed), [long[]]@(16, $Rank), $Factors.EB))
        $tensors.Add([ChatVector.TestKit.PeftTensor]::new($Kit::Whole('lm_head.weight'), [long[]]@(40, 16), $SavedHead))
        foreach ($tensor in $Extra) { $tensors.Add($tensor) }
        $Kit::Write($folder, $Kit::Config($Rank, $Alpha, [string[]]@('q_proj', 'embed_tokens'), $dictionary), $tensors)
        $folder
    }
    $script:Adapter = New-Adapter 'adapter'

    # scaling·B·A in float64 by the definition (the test kit's independent reference).
    $script:Deltas = @{
        "$Q0.weight" = [ChatVector.TestKit.Independent.LoraReference]::Delta($Factors.QA, $Factors.QB, $Rank, 16, 16, $Alpha / $Rank, $false)
        "$Embed.weight" = [ChatVector.TestKit.Independent.LoraReference]::Delta($Factors.EA, $Factors.EB, $Rank, 16, 40, $Alpha / $Rank, $true)
    }

    # A model's values of tensor $Name with the adapter applied: + scaling·B·A where it has factors, its saved tensor
    # for the LM head (modules_to_save), else as they are.
    function Get-Adapted([hashtable] $Values, [string] $Name) {
        $own = $Values[$Name]
        [double[]]@(for ($i = 0; $i -lt $own.Count; $i++) {
                if ($Name -eq 'lm_head.weight') { $SavedHead[$i] } elseif ($Deltas.ContainsKey($Name)) { $own[$i] + $Deltas[$Name][$i] } else { $own[$i] } })
    }

    # A float32 output within a few float32 steps of the float64 value.
    function Assert-Float32Close([double[]] $Actual, [double[]] $Expected, [string] $Name) {
        $Actual.Count | Should -Be $Expected.Count -Because $Name
        for ($i = 0; $i -lt $Expected.Count; $i++) {
            [math]::Abs($Actual[$i] - $Expected[$i]) | Should -BeLessOrEqual (1e-6 * [math]::Max(1, [math]::Abs($Expected[$i]))) -Because "$Name element $i"
        }
    }

    # Each bf16 value of $Actual (a tensor read back independently) at most one step from $Expected rounded to bf16.
    function Assert-WithinOneRounding([double[]] $Actual, [double[]] $Expected, [string] $Name) {
        $Actual.Count | Should -Be $Expected.Count
        for ($i = 0; $i -lt $Expected.Count; $i++) {
            $got = [ChatVector.TestKit.Independent.Bf16]::FromFloat([float]$Actual[$i])
            $want = [ChatVector.TestKit.Independent.Bf16]::FromFloat([float]$Expected[$i])
            [ChatVector.TestKit.Independent.Bf16]::UlpDistance($got, $want) | Should -BeLessOrEqual 1 -Because "$Name[$i]: got $($Actual[$i]), expected $($Expected[$i])"
        }
    }

    function Get-TerminatingError([scriptblock] $Run) {
        try { & $Run | Out-Null } catch { return $_ }
        throw 'The pipeline did not fail.'
    }
}

Describe 'Get-LoraVector handles' -Tag 'Lora' {
    It 'are one ChatVector handle per model tensor the adapter changes, named and shaped as the model''s, in its order' {
        $handles = @(Get-LoraVector $Adapter -Base $trio.Base -Ratio 0.5)
        $handles.Name | Should -Be @("$Embed.weight", "$Q0.weight", 'lm_head.weight')
        $handles.Kind | Sort-Object -Unique | Should -Be 'ChatVector'
        $handles[0].Shape.ToString() | Should -Be '[40, 16]'
        $handles.Ratio | Sort-Object -Unique | Should -Be 0.5
        $handles[0].Model | Should -Be (Resolve-Path $Adapter).Path
    }

    It 'leave out, with a warning naming them, the factors of modules target_modules does not name, as PEFT does' {
        $v0 = 'model.layers.0.self_attn.v_proj'
        $folder = New-Adapter 'untargeted' @{} @(
            [ChatVector.TestKit.PeftTensor]::new($Kit::LoraA($v0), [long[]]@($Rank, 16), [float[]]::new($Rank * 16)),
            [ChatVector.TestKit.PeftTensor]::new($Kit::LoraB($v0), [long[]]@(16, $Rank), [float[]]::new(16 * $Rank)))
        $handles = @(Get-LoraVector $folder -Base $trio.Base -WarningVariable warned -WarningAction SilentlyContinue)
        $handles.Name | Should -Not -Contain "$v0.weight"
        $handles.Name | Should -Contain "$Q0.weight"
        "$warned" | Should -BeLike "*factors of 1 module(s) are left out*target_modules do not name them ($v0)*"
    }

    It 'leave out, with a warning naming them, the factors of modules exclude_modules names, though target_modules names them, as PEFT does' {
        $v0 = 'model.layers.0.self_attn.v_proj'
        $folder = New-Adapter 'excluded' @{ target_modules = @('q_proj', 'v_proj', 'embed_tokens'); exclude_modules = @('v_proj') } @(
            [ChatVector.TestKit.PeftTensor]::new($Kit::LoraA($v0), [long[]]@($Rank, 16), $Factors.QA),
            [ChatVector.TestKit.PeftTensor]::new($Kit::LoraB($v0), [long[]]@(16, $Rank), $Factors.QB))
        $handles = @(Get-LoraVector $folder -Base $trio.Base -WarningVariable warned -WarningAction SilentlyContinue)
        $handles.Name | Should -Be @("$Embed.weight", "$Q0.weight", 'lm_head.weight')
        "$warned" | Should -BeLike "*factors of 1 module(s) are left out*exclude_modules names them ($v0)*"
    }

    It 'merge into the base as PEFT does: base + scaling·B·A within one rounding, the saved module replaced, other tensors untouched' {
        $out = Join-Path $TestDrive 'merged'
        Get-LoraVector $Adapter -Base $trio.Base | Add-ChatVector -Model $trio.Base | Export-SafeTensor $out

        $merged = Read-IndependentTensors $out
        foreach ($name in $Deltas.Keys) {
            $base = $trio.BaseValues[$name]
            $expected = [double[]]@(for ($i = 0; $i -lt $base.Count; $i++) { $base[$i] + $Deltas[$name][$i] })
            Assert-WithinOneRounding $merged[$name] $expected $name
            @(for ($i = 0; $i -lt $base.Count; $i++) { if ($merged[$name][$i] -ne $base[$i]) { $i } }).Count | Should -BeGreaterThan ($base.Count / 2) -Because "the change to $name is there"
        }
        $merged['lm_head.weight'] | Should -Be ([double[]]$SavedHead)
        $mergedBytes = Read-IndependentBytes $out
        $baseBytes = Read-IndependentBytes $trio.Base
        foreach ($name in $baseBytes.Keys | Where-Object { $_ -notin @($Deltas.Keys) + 'lm_head.weight' }) {
            [Linq.Enumerable]::SequenceEqual($mergedBytes[$name], $baseBytes[$name]) | Should -BeTrue -Because "$name is not in the adapter"
        }
    }

    It 'add with a chat vector into another model in one Add-ChatVector, each with its own ratio' {
        $out = Join-Path $TestDrive 'with-chat'
        @(Get-ChatVector $trio.Base $trio.Chat -Name "$Q0.weight"; Get-LoraVector $Adapter -Base $trio.Base -Name "$Q0.weight" -Ratio 0.5) |
            Add-ChatVector -Model $trio.Chat | Export-SafeTensor $out
        $name = "$Q0.weight"
        $chat = $trio.ChatValues[$name]; $base = $trio.BaseValues[$name]
        $expected = [double[]]@(for ($i = 0; $i -lt $chat.Count; $i++) { $chat[$i] + ($chat[$i] - $base[$i]) + 0.5 * $Deltas[$name][$i] })
        Assert-WithinOneRounding (Read-IndependentTensors $out)[$name] $expected $name
    }

    It 'pipe into Measure-ChatVector (norms against the base) and Limit-ChatVector like any vector' {
        $m = Get-LoraVector $Adapter -Base $trio.Base -Name "$Q0.weight" | Measure-ChatVector
        $norm = [Math]::Sqrt(($Deltas["$Q0.weight"] | ForEach-Object { $_ * $_ } | Measure-Object -Sum).Sum)
        $m.L2Norm | Should -BeGreaterThan ($norm * (1 - 1e-5))
        $m.L2Norm | Should -BeLessThan ($norm * (1 + 1e-5))
        $baseNorm = [Math]::Sqrt(($trio.BaseValues["$Q0.weight"] | ForEach-Object { [double]$_ * $_ } | Measure-Object -Sum).Sum)
        $m.RelativeNorm | Should -BeGreaterThan ($norm / $baseNorm * (1 - 1e-5))
        $m.RelativeNorm | Should -BeLessThan ($norm / $baseNorm * (1 + 1e-5))

        $out = Join-Path $TestDrive 'limited'
        Get-LoraVector $Adapter -Base $trio.Base -Name "$Q0.weight" | Limit-ChatVector -Density 0.25 | Add-ChatVector -Model $trio.Base | Export-SafeTensor $out
        $merged = (Read-IndependentTensors $out)["$Q0.weight"]
        $base = $trio.BaseValues["$Q0.weight"]
        $changed = @(for ($i = 0; $i -lt $base.Count; $i++) { if ($merged[$i] -ne $base[$i]) { $i } }).Count
        $changed | Should -BeGreaterThan 0
        $changed | Should -BeLessOrEqual 64 # a quarter of the 256 elements kept
    }
}

Describe 'Get-LoraVector and the merged model''s tokenizer' -Tag 'Lora' {
    It 'merges without a word about tokenizer settings when the adapter ships no tokenizer, as adapters do; a chat model without them still warns' {
        Join-Path $Adapter 'tokenizer_config.json' | Should -Not -Exist
        $out = Join-Path $TestDrive 'quiet'
        $warnings = & { Get-LoraVector $Adapter -Base $trio.Base | Add-ChatVector -Model $trio.Base | Export-SafeTensor $out } 3>&1
        @($warnings) | Should -BeNullOrEmpty
        # The output keeps the model's tokenizer settings.
        (Get-Content -Raw (Join-Path $out 'tokenizer_config.json') | ConvertFrom-Json).eos_token | Should -Be '</s>'

        # Saved first, the vector still knows where it came from.
        $saved = Join-Path $TestDrive 'quiet-vector.safetensors'
        Get-LoraVector $Adapter -Base $trio.Base | Export-SafeTensor $saved
        $warnings = & { Get-SafeTensor $saved | Add-ChatVector -Model $trio.Base | Export-SafeTensor (Join-Path $TestDrive 'quiet-saved') } 3>&1
        @($warnings) | Should -BeNullOrEmpty

        $bare = Join-Path $TestDrive 'chat-without-tokenizer'
        Copy-Item -Recurse $trio.Chat $bare
        Remove-Item (Join-Path $bare 'tokenizer_config.json')
        $warnings = & { Get-ChatVector -Base $trio.Base -Chat $bare | Add-ChatVector -Model $trio.Base | Export-SafeTensor (Join-Path $TestDrive 'loud') } 3>&1
        "$warnings" | Should -BeLike '*chat-without-tokenizer has no chat_template or eos_token in tokenizer_config.json*'
    }
}

Describe 'Get-LoraVector refusals' -Tag 'Lora' {
    It '<Case>: <Id> (<Category>) naming <File> and <Named>, and nothing is written' -ForEach @(
        @{ Case = 'DoRA'; Id = 'DoraNotAdditive'; Category = 'NotImplemented'; File = 'adapter_config.json'; Named = "'use_dora'"
           Make = { New-Adapter 'dora' @{ use_dora = $true } } }
        @{ Case = 'a module the base has in another shape'; Id = 'AdapterDoesNotFitModel'; Category = 'InvalidData'; File = 'adapter_model.safetensors'; Named = "'model.layers.0.mlp.up_proj.weight'"
           Make = { New-Adapter 'misfit' @{ target_modules = @('q_proj', 'embed_tokens', 'up_proj') } @(
                [ChatVector.TestKit.PeftTensor]::new($Kit::LoraA('model.layers.0.mlp.up_proj'), [long[]]@($Rank, 24), [float[]]::new($Rank * 24)),
                [ChatVector.TestKit.PeftTensor]::new($Kit::LoraB('model.layers.0.mlp.up_proj'), [long[]]@(16, $Rank), [float[]]::new(16 * $Rank))) } }
        @{ Case = 'a tensor name outside PEFT''s layout'; Id = 'AdapterTensorUnknown'; Category = 'InvalidData'; File = 'adapter_model.safetensors'; Named = "'base_model.model.model.layers.0.self_attn.q_proj.lora_A.default.weight'"
           Make = { New-Adapter 'unknown' @{} @([ChatVector.TestKit.PeftTensor]::new("base_model.model.$Q0.lora_A.default.weight", [long[]]@($Rank, 16), [float[]]::new($Rank * 16))) } }
        @{ Case = 'a pickled adapter'; Id = 'PickleAdapterRefused'; Category = 'SecurityError'; File = 'adapter_model.bin'; Named = 'pickle'
           Make = {
                $folder = Join-Path $TestDrive 'pickled'
                $null = New-Item -ItemType Directory $folder
                Copy-Item (Join-Path $Adapter 'adapter_config.json') $folder
                [IO.File]::WriteAllBytes((Join-Path $folder 'adapter_model.bin'), [byte[]](0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e))
                $folder } }
    ) {
        $folder = & $Make
        $target = Join-Path $TestDrive "refused-$([guid]::NewGuid().ToString('N'))"
        $record = Get-TerminatingError { Get-LoraVector $folder -Base $trio.Base | Add-ChatVector -Model $trio.Base | Export-SafeTensor $target }
        $record.FullyQualifiedErrorId | Should -Be "$Id,$GetId"
        $record.CategoryInfo.Category | Should -Be $Category
        "$record" | Should -BeLike "*$File*"
        "$record" | Should -BeLike "*$([WildcardPattern]::Escape($Named))*"
        Test-Path $target | Should -BeFalse
    }
}

Describe 'Get-LoraVector model+lora in Import-MergeConfig' -Tag 'Lora', 'Config' {
    BeforeAll {
        function New-Config([string] $Name, [string] $Text) {
            $path = Join-Path $trio.Root $Name
            Set-Content -LiteralPath $path -Value $Text
            $path
        }
        Copy-Item -Recurse $Adapter (Join-Path $trio.Root 'adapter')
    }

    It 'base+lora gives the bytes of Get-LoraVector | Add-ChatVector into the base' {
        $config = New-Config 'lora.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: base+adapter
    parameters:
      weight: 1.0
'@
        $fromConfig = Join-Path $TestDrive 'config-lora'
        Import-MergeConfig $config | Export-SafeTensor $fromConfig
        $fromPipeline = Join-Path $TestDrive 'pipeline-lora'
        Get-LoraVector $Adapter -Base $trio.Base | Add-ChatVector -Model $trio.Base | Export-SafeTensor $fromPipeline
        Assert-SameTensors $fromConfig $fromPipeline
    }

    It 'another model+lora is that model with the adapter applied, merged as its task vector' {
        $config = New-Config 'chat-lora.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat+adapter
    parameters:
      weight: 1.0
'@
        $out = Join-Path $TestDrive 'config-chat-lora'
        Import-MergeConfig $config | Export-SafeTensor $out
        $merged = Read-IndependentTensors $out
        foreach ($name in $Deltas.Keys) {
            $chat = $trio.ChatValues[$name]
            $expected = [double[]]@(for ($i = 0; $i -lt $chat.Count; $i++) { $chat[$i] + $Deltas[$name][$i] })
            Assert-WithinOneRounding $merged[$name] $expected $name
        }
        $merged['lm_head.weight'] | Should -Be ([double[]]$SavedHead)
        $merged['model.norm.weight'] | Should -Be ([double[]]$trio.ChatValues['model.norm.weight'])
    }

    It 'a slice''s source given as model+lora: over every layer, the bytes of the same merge under models:' {
        $slices = New-Config 'chat-lora-slices.yml' @'
merge_method: task_arithmetic
base_model: base
slices:
  - sources:
      - model: base
        layer_range: [0, 2]
      - model: chat+adapter
        layer_range: [0, 2]
        parameters:
          weight: 1.0
'@
        $models = New-Config 'chat-lora-models.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat+adapter
    parameters:
      weight: 1.0
'@
        $fromSlices = Join-Path $TestDrive 'slices-chat-lora'
        $fromModels = Join-Path $TestDrive 'models-chat-lora'
        Import-MergeConfig $slices | Export-SafeTensor $fromSlices
        Import-MergeConfig $models | Export-SafeTensor $fromModels
        Assert-SameTensors $fromSlices $fromModels
    }

    It 'a model+lora layer stacked twice by passthrough carries the adapter into each renumbered copy' {
        $config = New-Config 'chat-lora-stack.yml' @'
merge_method: passthrough
slices:
  - sources:
      - model: chat+adapter
        layer_range: [0, 1]
  - sources:
      - model: chat+adapter
        layer_range: [0, 1]
'@
        $out = Join-Path $TestDrive 'stack-chat-lora'
        Import-MergeConfig $config | Export-SafeTensor $out
        $merged = Read-IndependentTensors $out
        $chat = $trio.ChatValues["$Q0.weight"]
        $expected = [double[]]@(for ($i = 0; $i -lt $chat.Count; $i++) { $chat[$i] + $Deltas["$Q0.weight"][$i] })
        foreach ($layer in 0, 1) { Assert-WithinOneRounding $merged["model.layers.$layer.self_attn.q_proj.weight"] $expected "layer $layer q_proj" }
        $merged['model.layers.1.self_attn.k_proj.weight'] | Should -Be ([double[]]$trio.ChatValues['model.layers.0.self_attn.k_proj.weight'])
        $merged['lm_head.weight'] | Should -Be ([double[]]$SavedHead)
        (Get-Content (Join-Path $out 'config.json') -Raw | ConvertFrom-Json).num_hidden_layers | Should -Be 2
    }

    It 'base+lora as the base model: every task vector is taken against the base with the adapter applied' {
        $config = New-Config 'base-lora.yml' @'
merge_method: task_arithmetic
base_model: base+adapter
models:
  - model: chat
    parameters:
      weight: 0.5
dtype: float32
'@
        $out = Join-Path $TestDrive 'config-base-lora'
        Import-MergeConfig $config | Export-SafeTensor $out
        $merged = Read-IndependentTensors $out
        # b' = the base with the adapter applied; out = b' + 0.5·(chat − b').
        foreach ($name in @($Deltas.Keys) + @('lm_head.weight', 'model.norm.weight', 'model.layers.1.mlp.up_proj.weight')) {
            $adapted = Get-Adapted $trio.BaseValues $name
            $chat = $trio.ChatValues[$name]
            Assert-Float32Close $merged[$name] ([double[]]@(for ($i = 0; $i -lt $chat.Count; $i++) { $adapted[$i] + 0.5 * ($chat[$i] - $adapted[$i]) })) $name
        }
    }

    It 'a model+lora in a merge without base_model is that model with the adapter applied' {
        $config = New-Config 'no-base-lora.yml' @'
merge_method: linear
models:
  - model: chat+adapter
    parameters:
      weight: 1.0
  - model: base
    parameters:
      weight: 1.0
dtype: float32
'@
        $out = Join-Path $TestDrive 'config-no-base-lora'
        Import-MergeConfig $config | Export-SafeTensor $out
        $merged = Read-IndependentTensors $out
        # The mean of chat with the adapter applied and base.
        foreach ($name in @($Deltas.Keys) + @('lm_head.weight', 'model.norm.weight')) {
            $adapted = Get-Adapted $trio.ChatValues $name
            $base = $trio.BaseValues[$name]
            Assert-Float32Close $merged[$name] ([double[]]@(for ($i = 0; $i -lt $base.Count; $i++) { ($adapted[$i] + $base[$i]) / 2 })) $name
        }
    }

    It 'refuses an adapter the way Get-LoraVector does, on the base model as on a model, before anything is read' {
        Copy-Item -Recurse (New-Adapter 'dora-in-config' @{ use_dora = $true }) (Join-Path $trio.Root 'dora')
        $config = New-Config 'dora.yml' @'
merge_method: task_arithmetic
base_model: base+dora
models:
  - model: chat
    parameters:
      weight: 1.0
'@
        $record = Get-TerminatingError { Import-MergeConfig $config }
        $record.FullyQualifiedErrorId | Should -Be 'MergeConfigInvalid,ChatVector.PowerShell.Cmdlets.ImportMergeConfigCommand'
        "$record" | Should -BeLike "*base model 'base+dora'*use_dora*DoraNotAdditive*"
        $config = New-Config 'dora-only.yml' @'
merge_method: task_arithmetic
base_model: base
models:
  - model: chat+dora
    parameters:
      weight: 1.0
'@
        $record = Get-TerminatingError { Import-MergeConfig $config }
        "$record" | Should -BeLike "*model 'chat+dora'*adapter_config.json*use_dora*DoraNotAdditive*"
    }

    It 'refuses a LoRA with a tokenizer setting by name (the vocabulary mapping would read the model without it), nothing written' {
        $config = New-Config 'lora-union.yml' @'
merge_method: task_arithmetic
base_model: base
tokenizer_source: union
models:
  - model: chat+adapter
    parameters:
      weight: 1.0
'@
        $out = Join-Path $TestDrive 'lora-union'
        $record = Get-TerminatingError { Import-MergeConfig $config | Export-SafeTensor $out }
        $record.FullyQualifiedErrorId | Should -Be 'MergeConfigInvalid,ChatVector.PowerShell.Cmdlets.ImportMergeConfigCommand'
        "$record" | Should -BeLike "*model 'chat+adapter'*LoRA adapter with 'tokenizer_source'*"
        Test-Path $out | Should -BeFalse
    }
}
