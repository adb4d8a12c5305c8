#Requires -Version 7.4
<#
.SYNOPSIS
    Generates the module's help: MAML for every cmdlet and the about_ChatVector topic.

.DESCRIPTION
    Everything Get-Help shows about a command's shape comes from the built cmdlets themselves, so it
    cannot drift from the code: SYNTAX per parameter set, each parameter's type, Required, Position,
    pipeline input, aliases, wildcards and default value, INPUTS (what binds from the pipeline) and
    OUTPUTS ([OutputType]). Only prose comes from help/<Cmdlet>.md (synopsis, description, one section per
    parameter, examples, notes); help/about_ChatVector.md becomes about_ChatVector.help.txt.

    A parameter without a section in its markdown page gets an empty description (the Help Pester suite
    fails on it, naming the page to edit); a markdown error (an unknown section) stops the script.

    It imports the built module, so run it in its own process (build.ps1 starts it in a child pwsh after
    dotnet build): the imported DLL then stays unlocked for the next build.

.EXAMPLE
    dotnet pwsh -NoProfile -File build/New-ModuleHelp.ps1
#>
[CmdletBinding()]
param(
    # The manifest of the built module.
    [string] $ManifestPath = (Join-Path $PSScriptRoot '../ChatVector.psd1'),

    # The folder of markdown sources.
    [string] $SourcePath = (Join-Path $PSScriptRoot '../help'),

    # Where Get-Help looks: <ModuleBase>/en-US, and ModuleBase is the repository root when importing
    # ./ChatVector.psd1; module/bin/en-US is what the published module copies.
    [string[]] $OutputPath = @((Join-Path $PSScriptRoot '../en-US'), (Join-Path $PSScriptRoot '../module/bin/en-US'))
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest

$Namespaces = [ordered]@{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

#region Markdown

# One cmdlet page: ## SYNOPSIS, DESCRIPTION, PARAMETERS (### -Name), OUTPUTS (### Type, optional),
# EXAMPLES (### title, a ```powershell fence, remarks), NOTES, RELATED LINKS.
function Read-CommandPage {
    param([Parameter(Mandatory)] [string] $Path)
    $page = [ordered]@{
        Synopsis = ''; Description = @(); Parameters = @{}; Outputs = @{}; Examples = [Collections.Generic.List[object]]::new()
        Notes = @(); Links = @()
    }
    foreach ($section in Split-Sections -Path $Path -Level 2) {
        switch ($section.Title) {
            'SYNOPSIS' { $page.Synopsis = (ConvertTo-Paragraphs $section.Lines) -join ' ' }
            'DESCRIPTION' { $page.Description = ConvertTo-Paragraphs $section.Lines }
            'NOTES' { $page.Notes = ConvertTo-Paragraphs $section.Lines }
            'RELATED LINKS' { $page.Links = @($section.Lines | Where-Object { $_ -match '^\s*[-*]\s+' } | ForEach-Object { ($_ -replace '^\s*[-*]\s+', '').Trim() }) }
            'PARAMETERS' {
                foreach ($parameter in Split-Sections -Lines $section.Lines -Level 3 -Path $Path) {
                    $page.Parameters[$parameter.Title.TrimStart('-')] = ConvertTo-Paragraphs $parameter.Lines
                }
            }
            'OUTPUTS' {
                foreach ($output in Split-Sections -Lines $section.Lines -Level 3 -Path $Path) {
                    $page.Outputs[$output.Title] = ConvertTo-Paragraphs $output.Lines
                }
            }
            'EXAMPLES' {
                foreach ($example in Split-Sections -Lines $section.Lines -Level 3 -Path $Path) {
                    $page.Examples.Add((Read-Example -Section $example -Path $Path))
                }
            }
            default { throw "${Path}: unknown section '## $($section.Title)' (expected SYNOPSIS, DESCRIPTION, PARAMETERS, OUTPUTS, EXAMPLES, NOTES, RELATED LINKS)." }
        }
    }
    [pscustomobject]$page
}

# Sections at one heading level ('## ' or '### '); text before the first heading is ignored (the title).
# Headings inside code fences are code, not sections.
function Split-Sections {
    param([string] $Path, [string[]] $Lines, [Parameter(Mandatory)] [int] $Level)
    if (-not $PSBoundParameters.ContainsKey('Lines')) { $Lines = Get-Content -LiteralPath $Path }
    $prefix = ('#' * $Level) + ' '
    $sections = [Collections.Generic.List[object]]::new()
    $current = $null
    $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*```') { $inFence = -not $inFence }
        if (-not $inFence -and $line.StartsWith($prefix)) {
            $current = [pscustomobject]@{ Title = $line.Substring($prefix.Length).Trim(); Lines = [Collections.Generic.List[string]]::new() }
            $sections.Add($current)
        }
        elseif ($current) { $current.Lines.Add($line) }
    }
    $sections.ToArray()
}

# Markdown text as paragraphs: lines joined with spaces, a blank line or a list item starts a new one.
function ConvertTo-Paragraphs {
    param([string[]] $Lines)
    $paragraphs = [Collections.Generic.List[string]]::new()
    $current = [Collections.Generic.List[string]]::new()
    $flush = { if ($current.Count) { $paragraphs.Add(($current -join ' ')); $current.Clear() } }
    foreach ($line in $Lines) {
        $text = $line.Trim()
        if (-not $text) { & $flush; continue }
        if ($text -match '^[-*]\s+') { & $flush }
        $current.Add($text)
    }
    & $flush
    , $paragraphs.ToArray()
}

function Read-Example {
    param([Parameter(Mandatory)] $Section, [string] $Path)
    $code = [Collections.Generic.List[string]]::new()
    $remarks = [Collections.Generic.List[string]]::new()
    $state = 'before'
    foreach ($line in $Section.Lines) {
        if ($line -match '^\s*```') { $state = if ($state -eq 'before') { 'code' } else { 'after' }; continue }
        if ($state -eq 'code') { $code.Add($line) } elseif ($state -eq 'after') { $remarks.Add($line) }
    }
    if (-not $code.Count) { throw "${Path}: example '$($Section.Title)' has no ```powershell code fence." }
    [pscustomobject]@{ Title = $Section.Title; Code = $code -join "`n"; Remarks = ConvertTo-Paragraphs $remarks }
}

#endregion

#region Cmdlet metadata

# The type as Get-Command -Syntax writes it: a type accelerator's name where one exists (string,
# hashtable, double), the bare type name otherwise; [Nullable[T]] shows as T.
function Get-TypeDisplayName {
    param([Parameter(Mandatory)] [type] $Type)
    if ($Type.IsArray) { return (Get-TypeDisplayName $Type.GetElementType()) + '[]' }
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { return Get-TypeDisplayName $underlying }
    $accelerator = $script:Accelerators.GetEnumerator() | Where-Object Value -EQ $Type |
        Sort-Object { $_.Key.Length }, Key | Select-Object -First 1
    if ($accelerator) { return $accelerator.Key }
    $Type.Name
}

function Get-TypeFullName {
    param([Parameter(Mandatory)] [type] $Type)
    $underlying = [Nullable]::GetUnderlyingType($Type)
    if ($underlying) { return $underlying.FullName }
    $Type.FullName
}

# The parameters of one set in the order Get-Command -Syntax shows them: positional ones by position,
# then named mandatory, then named optional (each in declaration order); common parameters left out.
function Get-SyntaxParameters {
    param([Parameter(Mandatory)] [System.Management.Automation.CommandParameterSetInfo] $Set)
    $own = @($Set.Parameters | Where-Object { $_.Name -notin $script:CommonParameters })
    @($own | Where-Object Position -GE 0 | Sort-Object Position) +
    @($own | Where-Object { $_.Position -lt 0 -and $_.IsMandatory }) +
    @($own | Where-Object { $_.Position -lt 0 -and -not $_.IsMandatory })
}

# Every parameter a page describes: the command's own, including -WhatIf/-Confirm, without the common ones.
function Get-DocumentedParameters {
    param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command)
    @($Command.Parameters.Values | Where-Object Name -NotIn $script:CommonParameters)
}

# Values a fresh cmdlet object starts with (what an omitted parameter means).
function Get-DefaultValues {
    param([Parameter(Mandatory)] [System.Management.Automation.CmdletInfo] $Command)
    $instance = [Activator]::CreateInstance($Command.ImplementingType)
    $defaults = @{}
    try {
        foreach ($property in $Command.ImplementingType.GetProperties()) {
            if (-not $Command.Parameters.ContainsKey($property.Name)) { continue }
            $defaults[$property.Name] = Format-DefaultValue $property.GetValue($instance)
        }
    }
    finally { if ($instance -is [IDisposable]) { $instance.Dispose() } }
    $defaults
}

function Format-DefaultValue {
    param($Value)
    if ($null -eq $Value -or ($Value -is [array] -and $Value.Count -eq 0) -or ($Value -is [string] -and -not $Value)) { return 'None' }
    if ($Value -is [System.Management.Automation.SwitchParameter]) { return [string]$Value.IsPresent }
    [string]$Value
}

# How one parameter binds, as the help shows it. A parameter in several sets is Required only where it
# is mandatory in all of them, and has a position only where all of them agree on it.
function Get-Binding {
    param([Parameter(Mandatory)] [System.Management.Automation.ParameterMetadata] $Parameter, [System.Management.Automation.ParameterSetMetadata[]] $Sets)
    if (-not $Sets) { $Sets = @($Parameter.ParameterSets.Values) }
    $kinds = @(
        if ($Sets.Where({ $_.ValueFromPipeline })) { 'ByValue' }
        if ($Sets.Where({ $_.ValueFromPipelineByPropertyName })) { 'ByPropertyName' }
    )
    $positions = @($Sets.Position | Select-Object -Unique)
    [pscustomobject]@{
        Required      = -not $Sets.Where({ -not $_.IsMandatory })
        Position      = if ($positions.Count -eq 1 -and $positions[0] -ge 0) { [string]$positions[0] } else { 'named' }
        PipelineInput = if ($kinds) { "True ($($kinds -join ', '))" } else { 'False' }
        ByValue       = $kinds -contains 'ByValue'
        Remaining     = [bool]$Sets.Where({ $_.ValueFromRemainingArguments })
    }
}

#endregion

#region MAML

function Write-Paragraphs {
    param([Parameter(Mandatory)] [System.Xml.XmlWriter] $Writer, [string[]] $Paragraphs)
    $Writer.WriteStartElement('maml', 'description', $Namespaces.maml)
    foreach ($paragraph in $Paragraphs) { $Writer.WriteElementString('maml', 'para', $Namespaces.maml, $paragraph) }
    $Writer.WriteEndElement()
}

function Write-Type {
    param([Parameter(Mandatory)] [System.Xml.XmlWriter] $Writer, [Parameter(Mandatory)] [string] $Name)
    $Writer.WriteStartElement('dev', 'type', $Namespaces.dev)
    $Writer.WriteElementString('maml', 'name', $Namespaces.maml, $Name)
    $Writer.WriteElementString('maml', 'uri', $Namespaces.maml, '')
    $Writer.WriteEndElement()
}

# One <command:parameter>, for the PARAMETERS list or (with -InSyntax) for one set's syntax line.
function Write-Parameter {
    param(
        [Parameter(Mandatory)] [System.Xml.XmlWriter] $Writer,
        [Parameter(Mandatory)] [System.Management.Automation.ParameterMetadata] $Parameter,
        [Parameter(Mandatory)] $Binding,
        [string[]] $Description,
        [string] $Default,
        [switch] $InSyntax
    )
    $isSwitch = $Parameter.SwitchParameter
    $Writer.WriteStartElement('command', 'parameter', $Namespaces.command)
    $Writer.WriteAttributeString('required', $Binding.Required.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('variableLength', $Binding.Remaining.ToString().ToLowerInvariant())
    $wildcards = [bool]($Parameter.Attributes | Where-Object { $_ -is [System.Management.Automation.SupportsWildcardsAttribute] })
    $Writer.WriteAttributeString('globbing', $wildcards.ToString().ToLowerInvariant())
    $Writer.WriteAttributeString('pipelineInput', $Binding.PipelineInput)
    $Writer.WriteAttributeString('position', $Binding.Position)
    $Writer.WriteAttributeString('aliases', $(if ($Parameter.Aliases.Count) { $Parameter.Aliases -join ', ' } else { 'none' }))
    $Writer.WriteElementString('maml', 'name', $Namespaces.maml, $Parameter.Name)
    Write-Paragraphs -Writer $Writer -Paragraphs $Description
    # A switch has no value: the syntax line shows [-Force], the PARAMETERS list -Force [<SwitchParameter>].
    if (-not ($isSwitch -and $InSyntax)) {
        $Writer.WriteStartElement('command', 'parameterValue', $Namespaces.command)
        $Writer.WriteAttributeString('required', (-not $isSwitch).ToString().ToLowerInvariant())
        $Writer.WriteAttributeString('variableLength', $Parameter.ParameterType.IsArray.ToString().ToLowerInvariant())
        $Writer.WriteString($(if ($isSwitch) { 'SwitchParameter' } else { Get-TypeDisplayName $Parameter.ParameterType }))
        $Writer.WriteEndElement()
    }
    Write-Type -Writer $Writer -Name (Get-TypeFullName $Parameter.ParameterType)
    # -WhatIf/-Confirm are not properties of the cmdlet class: a switch nobody set is off.
    if (-not $Default) { $Default = if ($isSwitch) { 'False' } else { 'None' } }
    $Writer.WriteElementString('dev', 'defaultValue', $Namespaces.dev, $Default)
    $Writer.WriteEndElement()
}

# INPUTS: each type a parameter takes from the pipeline, saying which parameter binds it and how.
function Get-InputTypes {
    param([Parameter(Mandatory)] [System.Management.Automation.CommandInfo] $Command)
    $inputs = foreach ($parameter in Get-DocumentedParameters $Command) {
        $binding = Get-Binding $parameter
        if ($binding.PipelineInput -eq 'False') { continue }
        $type = if ($binding.ByValue -and $parameter.ParameterType.IsArray) { $parameter.ParameterType.GetElementType() } else { $parameter.ParameterType }
        $how = if ($binding.ByValue) { 'by value' } else { $null }
        $byName = if ($binding.PipelineInput -match 'ByPropertyName') {
            'by property name (' + ((@($parameter.Name) + $parameter.Aliases) -join ', ') + ')'
        }
        $ways = @($how, $byName) | Where-Object { $_ }
        [pscustomobject]@{ Type = Get-TypeFullName $type; Text = "Bound to -$($parameter.Name) $($ways -join ', or ')." }
    }
    if (-not $inputs) {
        return , [pscustomobject]@{ Type = 'None'; Text = "You cannot pipe objects to $($Command.Name)." }
    }
    $inputs
}

function Write-CommandHelp {
    param(
        [Parameter(Mandatory)] [System.Xml.XmlWriter] $Writer,
        [Parameter(Mandatory)] [System.Management.Automation.CmdletInfo] $Command,
        [Parameter(Mandatory)] $Page
    )
    $defaults = Get-DefaultValues $Command
    $parameters = Get-DocumentedParameters $Command
    $describe = { param($name) if ($Page.Parameters.ContainsKey($name)) { $Page.Parameters[$name] } else { $script:StandardText[$name] } }

    $Writer.WriteStartElement('command', 'command', $Namespaces.command)
    foreach ($prefix in $Namespaces.Keys) { $Writer.WriteAttributeString('xmlns', $prefix, $null, $Namespaces[$prefix]) }

    $Writer.WriteStartElement('command', 'details', $Namespaces.command)
    $Writer.WriteElementString('command', 'name', $Namespaces.command, $Command.Name)
    $Writer.WriteElementString('command', 'verb', $Namespaces.command, $Command.Verb)
    $Writer.WriteElementString('command', 'noun', $Namespaces.command, $Command.Noun)
    Write-Paragraphs -Writer $Writer -Paragraphs @($Page.Synopsis)
    $Writer.WriteEndElement()
    Write-Paragraphs -Writer $Writer -Paragraphs $Page.Description

    $Writer.WriteStartElement('command', 'syntax', $Namespaces.command)
    foreach ($set in $Command.ParameterSets) {
        $Writer.WriteStartElement('command', 'syntaxItem', $Namespaces.command)
        $Writer.WriteElementString('maml', 'name', $Namespaces.maml, $Command.Name)
        foreach ($info in Get-SyntaxParameters $set) {
            $parameter = $Command.Parameters[$info.Name]
            $setName = if ($parameter.ParameterSets.ContainsKey($set.Name)) { $set.Name } else { '__AllParameterSets' }
            $setMetadata = $parameter.ParameterSets[$setName]
            Write-Parameter -Writer $Writer -Parameter $parameter -Binding (Get-Binding $parameter -Sets $setMetadata) `
                -Description (& $describe $info.Name) -Default $defaults[$info.Name] -InSyntax
        }
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'parameters', $Namespaces.command)
    foreach ($parameter in $parameters) {
        Write-Parameter -Writer $Writer -Parameter $parameter -Binding (Get-Binding $parameter) `
            -Description (& $describe $parameter.Name) -Default $defaults[$parameter.Name]
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'inputTypes', $Namespaces.command)
    foreach ($input in Get-InputTypes $Command) {
        $Writer.WriteStartElement('command', 'inputType', $Namespaces.command)
        Write-Type -Writer $Writer -Name $input.Type
        Write-Paragraphs -Writer $Writer -Paragraphs @($input.Text)
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'returnValues', $Namespaces.command)
    foreach ($output in $Command.OutputType) {
        $Writer.WriteStartElement('command', 'returnValue', $Namespaces.command)
        Write-Type -Writer $Writer -Name $output.Name
        $text = if ($Page.Outputs.ContainsKey($output.Name)) { $Page.Outputs[$output.Name] } else { @() }
        Write-Paragraphs -Writer $Writer -Paragraphs $text
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    if ($Page.Notes) {
        $Writer.WriteStartElement('maml', 'alertSet', $Namespaces.maml)
        $Writer.WriteStartElement('maml', 'alert', $Namespaces.maml)
        foreach ($paragraph in $Page.Notes) { $Writer.WriteElementString('maml', 'para', $Namespaces.maml, $paragraph) }
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }

    $Writer.WriteStartElement('command', 'examples', $Namespaces.command)
    foreach ($example in $Page.Examples) {
        $Writer.WriteStartElement('command', 'example', $Namespaces.command)
        $Writer.WriteElementString('maml', 'title', $Namespaces.maml, "---------- $($example.Title) ----------")
        $Writer.WriteElementString('dev', 'code', $Namespaces.dev, $example.Code)
        $Writer.WriteStartElement('dev', 'remarks', $Namespaces.dev)
        foreach ($paragraph in $example.Remarks) { $Writer.WriteElementString('maml', 'para', $Namespaces.maml, $paragraph) }
        $Writer.WriteEndElement()
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteStartElement('command', 'relatedLinks', $Namespaces.command)
    foreach ($link in $Page.Links) {
        $Writer.WriteStartElement('maml', 'navigationLink', $Namespaces.maml)
        $Writer.WriteElementString('maml', 'linkText', $Namespaces.maml, $link)
        $Writer.WriteElementString('maml', 'uri', $Namespaces.maml, '')
        $Writer.WriteEndElement()
    }
    $Writer.WriteEndElement()

    $Writer.WriteEndElement()
}

function New-MamlText {
    param([Parameter(Mandatory)] [System.Management.Automation.CmdletInfo[]] $Commands)
    $settings = [System.Xml.XmlWriterSettings]@{ Indent = $true; IndentChars = '  '; Encoding = [Text.UTF8Encoding]::new($false); NewLineChars = "`n" }
    $buffer = [IO.StringWriter]::new()
    $writer = [System.Xml.XmlWriter]::Create($buffer, $settings)
    $writer.WriteStartDocument()
    $writer.WriteStartElement('helpItems', 'http://msh')
    $writer.WriteAttributeString('schema', 'maml')
    foreach ($command in $Commands) {
        $page = Join-Path $SourcePath "$($command.Name).md"
        if (-not (Test-Path -LiteralPath $page)) {
            Write-Warning "$($command.Name) has no help page: create $page."
            $content = [pscustomobject]@{ Synopsis = ''; Description = @(); Parameters = @{}; Outputs = @{}; Examples = @(); Notes = @(); Links = @() }
        }
        else { $content = Read-CommandPage -Path $page }
        foreach ($parameter in Get-DocumentedParameters $command) {
            if (-not $content.Parameters.ContainsKey($parameter.Name) -and -not $script:StandardText.ContainsKey($parameter.Name)) {
                Write-Warning "$($command.Name) -$($parameter.Name) has no help text: add a '### -$($parameter.Name)' section to $page."
            }
        }
        Write-CommandHelp -Writer $writer -Command $command -Page $content
    }
    $writer.WriteEndElement()
    $writer.WriteEndDocument()
    $writer.Flush()
    # XmlWriter declares the StringWriter's encoding (utf-16); the file is written as UTF-8.
    $buffer.ToString().Replace('encoding="utf-16"', 'encoding="utf-8"') + "`n"
}

#endregion

#region About topic

# Markdown to the plain text Get-Help prints as is: '## HEADING' at the margin, prose wrapped at 80
# columns and indented 4, list items hanging, code fences indented 8, '###' headings indented 4.
function ConvertTo-AboutText {
    param([Parameter(Mandatory)] [string] $Path)
    $out = [Collections.Generic.List[string]]::new()
    $paragraph = [Collections.Generic.List[string]]::new()
    $flush = {
        if ($paragraph.Count) { foreach ($line in Format-Wrapped -Text ($paragraph -join ' ')) { $out.Add($line) } }
        $paragraph.Clear()
    }
    $blank = { if ($out.Count -and $out[-1] -ne '') { $out.Add('') } }
    $inFence = $false
    foreach ($line in Get-Content -LiteralPath $Path) {
        if ($line -match '^\s*```') { & $flush; $inFence = -not $inFence; continue }
        if ($inFence) { $out.Add($(if ($line) { '        ' + $line } else { '' })); continue }
        if ($line -match '^# (.+)') { & $flush; $out.Add('TOPIC'); $out.Add('    ' + $Matches[1].Trim()); continue }
        if ($line -match '^## (.+)') { & $flush; & $blank; $out.Add($Matches[1].Trim().ToUpperInvariant()); continue }
        if ($line -match '^### (.+)') {
            & $flush; & $blank
            $out.Add('    ' + $Matches[1].Trim()); $out.Add('    ' + ('-' * $Matches[1].Trim().Length)); continue
        }
        if (-not $line.Trim()) { & $flush; & $blank; continue }
        if ($line -match '^\s*[-*]\s+') { & $flush }
        $paragraph.Add($line.Trim())
    }
    & $flush
    ($out -join "`n").TrimEnd() + "`n"
}

# Words wrapped into lines of at most $Width characters after a 4-space indent; a list item ('- ')
# continues under its text.
function Format-Wrapped {
    param([Parameter(Mandatory)] [string] $Text, [int] $Width = 76)
    $isItem = $Text.StartsWith('- ')
    $indent = '    '
    $lines = [Collections.Generic.List[string]]::new()
    $current = ''
    foreach ($word in $Text -split '\s+') {
        if ($current -and ($current.Length + 1 + $word.Length) -gt $Width) {
            $lines.Add($indent + $current)
            $current = $(if ($isItem) { '  ' } else { '' }) + $word
        }
        else { $current = if ($current) { "$current $word" } else { $word } }
    }
    if ($current) { $lines.Add($indent + $current) }
    $lines
}

#endregion

# Text for the parameters ShouldProcess adds (not common parameters, so the help lists them).
$script:StandardText = @{
    WhatIf  = @('Shows what would happen if the cmdlet runs. The cmdlet is not run.')
    Confirm = @('Prompts you for confirmation before running the cmdlet.')
}
$script:CommonParameters = [System.Management.Automation.Cmdlet]::CommonParameters
$script:Accelerators = [psobject].Assembly.GetType('System.Management.Automation.TypeAccelerators')::Get

$module = Import-Module $ManifestPath -PassThru -Force
$commands = @(Get-Command -Module $module.Name -CommandType Cmdlet | Sort-Object Name)
$files = [ordered]@{
    # The name PowerShell looks for: the cmdlet assembly's file name plus -Help.xml.
    [IO.Path]::GetFileName($commands[0].HelpFile) = New-MamlText -Commands $commands
}
foreach ($topic in Get-ChildItem -LiteralPath $SourcePath -Filter 'about_*.md') {
    $files["$($topic.BaseName).help.txt"] = ConvertTo-AboutText -Path $topic.FullName
}

$utf8 = [Text.UTF8Encoding]::new($false)
foreach ($folder in $OutputPath) {
    $folder = [IO.Path]::GetFullPath($folder)
    $null = New-Item -ItemType Directory -Path $folder -Force
    foreach ($name in $files.Keys) { [IO.File]::WriteAllText((Join-Path $folder $name), $files[$name], $utf8) }
    Write-Host "Help written to ${folder}: $($files.Keys -join ', ')."
}
