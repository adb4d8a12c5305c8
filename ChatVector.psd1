# Module manifest for ChatVector. Import it from the repository root after 'dotnet build'
# (or from out/ChatVector after './build.ps1 -Publish'): the binary module is laid out under module/bin.
@{
    RootModule           = 'module/bin/ChatVector.PowerShell.dll'
    ModuleVersion        = '0.1.0'
    GUID                 = '6ddd9566-7ee2-45bc-a059-b0fe604f7c83'
    Author               = 'ChatVector contributors'
    CompanyName          = 'ChatVector'
    Copyright            = '(c) ChatVector contributors. All rights reserved.'
    Description          = 'Inspect, validate and merge safetensors models (chat vectors) from PowerShell, backed by TorchSharp.'

    # TorchSharp's net8.0 build (the only one that loads natives off Windows) needs PowerShell 7.4+.
    PowerShellVersion    = '7.4'
    CompatiblePSEditions = @('Core')

    CmdletsToExport      = @(
        'Get-SafeTensor'
        'Test-SafeTensor'
        'Export-SafeTensor'
        'Show-SafeTensor'
        'Get-ChatVector'
        'Get-LoraVector'
        'Add-ChatVector'
        'Merge-ChatVector'
        'Limit-ChatVector'
        'Measure-ChatVector'
        'Get-ChatVectorRuntime'
        'Measure-ChatVectorModel'
        'Invoke-ChatVectorModel'
        'Import-MergeConfig'
        'Export-LoraAdapter'
    )
    FunctionsToExport    = @()
    AliasesToExport      = @()
    VariablesToExport    = @()

    FormatsToProcess     = @('module/ChatVector.format.ps1xml')

    # What './build.ps1 -Publish' packs (Compress-PSResource) into ChatVector.<ModuleVersion>.nupkg. The module
    # needs no other module (no RequiredModules), so installing it from a local folder needs no gallery.
    # No ProjectUri/LicenseUri: the project has no public address or licence file yet.
    PrivateData          = @{
        PSData = @{
            Tags = @('safetensors', 'TorchSharp', 'LLM', 'ChatVector', 'PSEdition_Core', 'Linux', 'Windows')
        }
    }
}
