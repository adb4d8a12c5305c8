# Limit-ChatVector end to end: what a user can check of the sparsified vector, saving and reloading,
# per-handle Density, the Layer property, provenance in metadata and the model card, parameter errors.
BeforeAll {
    . (Join-Path $PSScriptRoot 'TestHelpers.ps1')
    $script:trio = New-TestTrio -Root (Join-Path $TestDrive 'trio')
    $script:attention = 'model.layers.0.self_attn.*'

    # chat - base in float32, as the module computes a vector.
    function Get-Delta([string] $Name) {
        $chat = $trio.ChatValues[$Name]; $base = $trio.BaseValues[$Name]
        $delta = [float[]]::new($chat.Length)
        for ($i = 0; $i -lt $chat.Length; $i++) { $delta[$i] = [float]([double]$chat[$i] - [double]$base[$i]) }
        , $delta
    }

    # What a user can check of a magnitude trim without re-implementing it: exactly floor(density*n) elements stay
    # (the deltas here have far more nonzero elements than that), each unchanged; none dropped is larger than one kept;
    # among equal magnitudes at the threshold, the kept ones have the higher indices. The selection itself is checked
    # against a full sort in the xunit suite (MagnitudeTrimTests, ExactSelectionTests).
    function Assert-MagnitudeTrim([double[]] $Actual, [float[]] $Delta, [double] $Density, [string] $Because) {
        $n = $Delta.Length
        $k = [math]::Floor($Density * $n)
        $keptCount = 0
        $changed = 0
        [double]$smallestKept = [double]::PositiveInfinity
        [double]$largestDropped = -1
        for ($i = 0; $i -lt $n; $i++) {
            $magnitude = [math]::Abs([double]$Delta[$i])
            if ($Actual[$i] -ne 0) {
                $keptCount++
                if ($Actual[$i] -ne [double]$Delta[$i]) { $changed++ }
                $smallestKept = [math]::Min($smallestKept, $magnitude)
            }
            else { $largestDropped = [math]::Max($largestDropped, $magnitude) }
        }
        $keptCount | Should -Be $k -Because $Because
        $changed | Should -Be 0 -Because "$Because, kept elements are unchanged"
        $largestDropped | Should -BeLessOrEqual $smallestKept -Because $Because
        if ($largestDropped -eq $smallestKept) {
            $tied = 0..($n - 1) | Where-Object { [math]::Abs([double]$Delta[$_]) -eq $smallestKept }
            $lastDropped = ($tied | Where-Object { $Actual[$_] -eq 0 } | Measure-Object -Maximum).Maximum
            $firstKept = ($tied | Where-Object { $Actual[$_] -ne 0 } | Measure-Object -Minimum).Minimum
            $lastDropped | Should -BeLessThan $firstKept -Because "$Because, ties go to the higher index"
        }
    }

    function Get-FileMetadata([string] $Folder) {
        $file = Get-ChildItem $Folder -Filter *.safetensors | Select-Object -First 1
        ([ChatVector.TestKit.Independent.IndependentSafeTensorReader]::new($file.FullName)).Metadata
    }
}

Describe 'Limit-ChatVector sparsifies vectors lazily' -Tag 'Limit' {
    It 'Magnitude keeps the largest floor(density*n) of every tensor, ties by the highest index' {
        $out = Join-Path $TestDrive 'ties'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention | Limit-ChatVector -Density 0.3 | Export-SafeTensor $out
        $actual = Read-IndependentTensors $out
        $actual.Count | Should -Be 4
        foreach ($name in $actual.Keys) { Assert-MagnitudeTrim $actual[$name] (Get-Delta $name) 0.3 $name }
    }

    It 'emits vector handles that keep the ratio, model and a Layer, computing nothing yet' {
        $limited = Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 0.5 | Limit-ChatVector 0.2 -Method Breadcrumbs
        $limited.Count | Should -Be 21
        $limited | ForEach-Object { $_.Kind | Should -Be 'ChatVector'; $_.Ratio | Should -Be 0.5; $_.Model | Should -Be $trio.Chat }
        ($limited | Where-Object Name -EQ 'model.layers.1.mlp.up_proj.weight').Layer | Should -Be 1
        ($limited | Where-Object Name -EQ 'model.embed_tokens.weight').Layer | Should -BeNullOrEmpty
    }

    It 'Random with -RescaleNorm Density divides kept elements by density; with -NoRescale keeps them as they are' {
        $scaled = Join-Path $TestDrive 'dare'; $plain = Join-Path $TestDrive 'dare-plain'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention | Limit-ChatVector 0.5 -Method Random -Seed 9 -RescaleNorm Density | Export-SafeTensor $scaled
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention | Limit-ChatVector 0.5 -Method Random -Seed 9 -NoRescale | Export-SafeTensor $plain
        $s = Read-IndependentTensors $scaled; $p = Read-IndependentTensors $plain
        $name = 'model.layers.0.self_attn.q_proj.weight'; $delta = Get-Delta $name
        $kept = 0
        for ($i = 0; $i -lt $delta.Length; $i++) {
            if ($p[$name][$i] -ne 0) {
                $kept++
                $p[$name][$i] | Should -Be ([double]$delta[$i])
                $s[$name][$i] | Should -Be ([double][float]($delta[$i] / 0.5))
            }
            else { $s[$name][$i] | Should -Be 0 }
        }
        $kept | Should -BeGreaterThan 0
        $kept | Should -BeLessThan $delta.Length
    }

    It 'Random and Della rescale by default as mergekit does: the kept elements keep the vector''s L1 norm' -ForEach @(
        @{ Method = 'Random' }
        @{ Method = 'Della' }
    ) {
        $l1 = Join-Path $TestDrive "l1-$Method"; $plain = Join-Path $TestDrive "l1-plain-$Method"
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention | Limit-ChatVector 0.4 -Method $Method -Seed 5 | Export-SafeTensor $l1
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention | Limit-ChatVector 0.4 -Method $Method -Seed 5 -NoRescale | Export-SafeTensor $plain
        $scaled = Read-IndependentTensors $l1; $kept = Read-IndependentTensors $plain
        foreach ($name in $kept.Keys) {
            $delta = Get-Delta $name
            [double]$before = 0; [double]$after = 0
            foreach ($x in $delta) { $before += [math]::Abs([double]$x) }
            foreach ($x in $kept[$name]) { $after += [math]::Abs($x) }
            $factor = [float]($before / $after)
            for ($i = 0; $i -lt $delta.Length; $i++) {
                if ($scaled[$name][$i] -ne [double][float]($kept[$name][$i] * $factor)) { throw "$name element $i`: $($scaled[$name][$i]) is not $($kept[$name][$i]) x $factor" }
            }
            [double]$norm = 0
            foreach ($x in $scaled[$name]) { $norm += [math]::Abs($x) }
            [math]::Abs($norm - $before) | Should -BeLessThan (1e-5 * $before) -Because "$name keeps its L1 norm"
        }
    }

    It 'honours a Density set on each handle (per layer), over -Density' {
        $out = Join-Path $TestDrive 'per-layer'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention, 'model.layers.1.self_attn.q_proj.weight' |
            ForEach-Object { $_.Density = if ($_.Layer -eq 1) { 0.9 } else { 0.1 }; $_ } |
            Limit-ChatVector -Density 0.5 | Export-SafeTensor $out
        $actual = Read-IndependentTensors $out
        foreach ($name in $actual.Keys) {
            $density = if ($name -like 'model.layers.1.*') { 0.9 } else { 0.1 }
            Assert-MagnitudeTrim $actual[$name] (Get-Delta $name) $density $name
        }
        $recorded = (Get-FileMetadata $out)['chatvector.sparsify'] | ConvertFrom-Json
        $recorded.'model.layers.1.self_attn.q_proj.weight'.density | Should -Be 0.9
        $recorded.'model.layers.0.self_attn.q_proj.weight'.density | Should -Be 0.1
    }
}

Describe 'A sparsified vector is saved and reloaded like any vector' -Tag 'Limit' {
    BeforeAll {
        $script:saved = Join-Path $TestDrive 'saved-dare'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 0.7 | Limit-ChatVector 0.4 -Method Della -Verbose 4>&1 |
            ForEach-Object { if ($_ -is [System.Management.Automation.VerboseRecord]) { $script:verbose = $_.Message } else { $_ } } |
            Export-SafeTensor $saved
    }

    It 'records method, density, gamma, epsilon, the drawn seed and rescale in the metadata' {
        $recorded = (Get-FileMetadata $saved)['chatvector.sparsify'] | ConvertFrom-Json
        $recorded.method | Should -Be 'della'
        $recorded.density | Should -Be 0.4
        $recorded.gamma | Should -Be 0.01
        $recorded.epsilon | Should -Be 0.15
        $recorded.rescale | Should -BeTrue
        $verbose | Should -Match "seed $($recorded.seed)\b"
    }

    It 'a magnitude trim draws no seed: the same pipeline writes the same bytes on every run, recipe and card included' {
        $hashes = foreach ($run in 1, 2) {
            $out = Join-Path $TestDrive "magnitude-run-$run"
            @(Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.layers.*'; Get-ChatVector -Base $trio.Base -Chat $trio.Cp -Name 'model.layers.*') |
                Limit-ChatVector -Density 0.5 | Add-ChatVector -Model $trio.Base -Consensus Sum -Normalize | Export-SafeTensor $out
            (Get-ChildItem $out -File | Sort-Object Name | Get-FileHash | ForEach-Object Hash) -join ','
        }
        $hashes[1] | Should -Be $hashes[0]
        $recipe = (Get-FileMetadata (Join-Path $TestDrive 'magnitude-run-1')).Values -join "`n"
        $recipe | Should -Match '"method":\s*"magnitude"'
        $recipe | Should -Not -Match '"seed":\s*[1-9]'
    }

    It 'the recorded seed reproduces the same bytes' {
        $seed = ((Get-FileMetadata $saved)['chatvector.sparsify'] | ConvertFrom-Json).seed
        $again = Join-Path $TestDrive 'again-dare'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 0.7 | Limit-ChatVector 0.4 -Method Della -Seed $seed | Export-SafeTensor $again
        $a = Read-IndependentTensors $saved; $b = Read-IndependentTensors $again
        foreach ($name in $a.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $b[$name]) | Should -BeTrue -Because $name }
    }

    It 'reloads as vector handles with the ratio; merging the saved one equals merging the live one, and the card says how it was thinned' {
        $reloaded = Get-SafeTensor $saved
        $reloaded | ForEach-Object { $_.Kind | Should -Be 'ChatVector'; $_.Ratio | Should -Be 0.7 }
        $seed = ((Get-FileMetadata $saved)['chatvector.sparsify'] | ConvertFrom-Json).seed
        $fromSaved = Join-Path $TestDrive 'merged-saved'; $live = Join-Path $TestDrive 'merged-live'
        $reloaded | Add-ChatVector -Model $trio.Cp | Export-SafeTensor $fromSaved
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Ratio 0.7 | Limit-ChatVector 0.4 -Method Della -Seed $seed |
            Add-ChatVector -Model $trio.Cp | Export-SafeTensor $live
        $a = Read-IndependentTensors $fromSaved; $b = Read-IndependentTensors $live
        foreach ($name in $b.Keys) { [Linq.Enumerable]::SequenceEqual($a[$name], $b[$name]) | Should -BeTrue -Because $name }
        foreach ($folder in $fromSaved, $live) {
            Get-Content (Join-Path $folder 'README.md') -Raw | Should -Match "sparsified \(della, density 0\.4, epsilon 0\.15, seed $seed, rescaled to the L1 norm\)"
            $recipe = (Get-FileMetadata $folder)['chatvector.recipe'] | ConvertFrom-Json
            $recipe.vectors[0].sparsify.seed | Should -Be $seed
        }
    }
}

Describe 'Limit-ChatVector refuses what it cannot do' -Tag 'Limit' {
    It 'a density outside [0, 1] is a parameter error' {
        { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Limit-ChatVector -Density 1.5 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
        { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Limit-ChatVector -Density -0.1 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
    }

    It 'Della with density ± epsilon outside (0, 1) is refused, naming the range and an epsilon that would do, as mergekit refuses it' {
        $emitted = @()
        $failure = { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Limit-ChatVector -Density 0.9 -Method Della -Epsilon 0.5 -Seed 1 | ForEach-Object { $emitted += $_ } } |
            Should -Throw -PassThru
        "$failure" | Should -BeLike '*density 0.9 and epsilon 0.5 give 0.4 to 1.4: choose an epsilon below 0.1*'
        "$failure" | Should -Not -BeLike "*(Parameter '*"
        $emitted.Count | Should -Be 0
        # The default epsilon (0.15) with a density of 0.1 reaches below 0.
        { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Limit-ChatVector -Density 0.1 -Method Della -Seed 1 } | Should -Throw '*give -0.05 to 0.25*'
    }

    It 'draws each model''s mask on its own, as mergekit does: two vectors of one call keep independent sets' {
        # Two models' vectors of one tensor: independent masks at density 0.5 agree on about half of the elements; one
        # shared stream of draws would keep the same positions of both (agreeing wherever both are nonzero).
        $name = 'model.layers.0.mlp.up_proj.weight'
        $second = Join-Path $TestDrive 'second-chat'
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 15; Vocab = 40 }).Write($second)
        $limited = @(@(Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $name; Get-ChatVector -Base $trio.Base -Chat $second -Name $name) |
            Limit-ChatVector -Density 0.5 -Method Random -Seed 3)
        $limited.Count | Should -Be 2
        $first = Join-Path $TestDrive 'stream-0'; $second = Join-Path $TestDrive 'stream-1'
        $limited[0] | Export-SafeTensor $first
        $limited[1] | Export-SafeTensor $second
        $a = (Read-IndependentTensors $first)[$name]; $b = (Read-IndependentTensors $second)[$name]
        $agree = 0
        for ($i = 0; $i -lt $a.Count; $i++) { if (($a[$i] -ne 0) -eq ($b[$i] -ne 0)) { $agree++ } }
        ($agree / $a.Count) | Should -BeLessThan 0.75
        ($agree / $a.Count) | Should -BeGreaterThan 0.25
    }

    It 'gives every shard of one saved vector the stream of that vector: two sharded vectors are two models' {
        $first = Join-Path $TestDrive 'sharded-chat'; $second = Join-Path $TestDrive 'sharded-other'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.layers.*' | Export-SafeTensor $first -MaxShardSize 8KB
        $otherChat = Join-Path $TestDrive 'other-chat'
        $null = ([ChatVector.TestKit.LlamaModelBuilder]@{ Seed = 14; Vocab = 40 }).Write($otherChat)
        Get-ChatVector -Base $trio.Base -Chat $otherChat -Name 'model.layers.*' | Export-SafeTensor $second -MaxShardSize 8KB
        @(Get-ChildItem $first -Filter *.safetensors).Count | Should -BeGreaterThan 1
        $verbose = @(Get-SafeTensor $first, $second | Limit-ChatVector -Density 0.5 -Method Random -Seed 7 |
            Merge-ChatVector task_arithmetic -Model $trio.Base -Parameter @{ weight = 0.5 } -Verbose 4>&1 | Where-Object { $_ -is [System.Management.Automation.VerboseRecord] })
        "$verbose" | Should -BeLike '*task_arithmetic of 2 model(s)*'
    }

    It 'a handle''s Density outside [0, 1] cannot be set' {
        $handle = Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'lm_head.weight'
        $failure = { $handle.Density = 2 } | Should -Throw '*lm_head.weight: Density must be between 0 and 1; it cannot be 2*' -PassThru
        "$failure" | Should -Not -BeLike "*(Parameter '*" # .NET's suffix, meaningless at the prompt
        $handle.Density | Should -BeNullOrEmpty
    }

    It '-Rescale with -NoRescale is refused' {
        { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Limit-ChatVector 0.5 -Rescale -NoRescale } |
            Should -Throw -ErrorId 'AmbiguousParameterSet,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
    }

    It 'a tensor that is not a vector stops it before anything is emitted' {
        $emitted = @()
        { Get-SafeTensor $trio.Cp | Limit-ChatVector 0.5 -ErrorAction SilentlyContinue | ForEach-Object { $emitted += $_ } } |
            Should -Throw -ErrorId 'LimitNotPossible,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
        $emitted.Count | Should -Be 0
    }

    It 'no -Density and no handle Density is refused' {
        { Get-ChatVector -Base $trio.Base -Chat $trio.Chat | Limit-ChatVector -ErrorAction SilentlyContinue } |
            Should -Throw -ErrorId 'LimitNotPossible,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
        $Error[1].FullyQualifiedErrorId | Should -Be 'DensityMissing,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
    }

    It 'a saved vector of integers is refused, naming the handle' {
        $savedFolder = Join-Path $TestDrive 'saved-norm'
        Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name 'model.norm.weight' | Export-SafeTensor (Join-Path $savedFolder 'norm-vector.safetensors')
        # The same vector file, its tensor rewritten as I32 (its metadata still says it is a vector).
        $metadata = Get-FileMetadata $savedFolder
        $integers = Join-Path $TestDrive 'integers' 'norm-vector.safetensors'
        New-Item -ItemType Directory (Split-Path $integers) | Out-Null
        [ChatVector.TestKit.SafeTensorsWriter]::WriteOne($integers, 'model.norm.weight', 'I32', [long[]]@(16), [byte[]]::new(64), $metadata)
        $handle = Get-SafeTensor $integers
        $handle.Kind | Should -Be 'ChatVector'
        $failure = { $handle | Limit-ChatVector 0.5 } |
            Should -Throw -ErrorId 'NotSupported,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand' -PassThru
        $failure.TargetObject.Name | Should -Be 'model.norm.weight'
        "$failure" | Should -Be "'model.norm.weight' is I32; only F16, BF16, F32 and F64 vectors can be sparsified."
    }

    It 'a tensor of one vector arriving twice is refused by name, whatever the densities (it has one sparsification record)' {
        $vector = @(Get-ChatVector -Base $trio.Base -Chat $trio.Chat -Name $attention)
        $vector[0].Density = 0.5 # differing densities once reached the record's JSON library, which complained in its own words
        $ErrorActionPreference = 'Continue' # the user's default (build.ps1 runs the suites under 'Stop'): the per-tensor errors, then the final one
        $emitted = [Collections.Generic.List[object]]::new()
        $failure = $null
        try { @($vector; $vector) | Limit-ChatVector 0.3 -ErrorVariable problems 2>$null | ForEach-Object { $emitted.Add($_) } }
        catch { $failure = $_ }
        $failure.FullyQualifiedErrorId | Should -Be 'LimitNotPossible,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
        "$failure" | Should -BeLike "$($vector.Count) input(s) cannot be sparsified*"
        $emitted.Count | Should -Be 0
        $duplicates = @($problems | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] }) # -ErrorVariable also holds the final error, as an exception
        $duplicates.Count | Should -Be $vector.Count
        foreach ($problem in $duplicates) {
            $problem.FullyQualifiedErrorId | Should -Be 'DuplicateTensorName,ChatVector.PowerShell.Cmdlets.LimitChatVectorCommand'
            $problem.CategoryInfo.Category | Should -Be 'InvalidArgument'
            $problem.TargetObject.Name | Should -BeIn $vector.Name
            "$problem" | Should -BeLike "'$($problem.TargetObject.Name)' of $($trio.Chat) arrived 2 times*"
            "$problem" | Should -Not -BeLike '*JObject*'
        }
    }
}
