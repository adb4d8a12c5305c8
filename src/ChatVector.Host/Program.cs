// cvhost: runs PowerShell against the ChatVector module on machines without pwsh.
// See HostOptions.Usage; the work happens in ScriptRunner.
using ChatVector.Host;

var options = HostOptions.Parse(args, out var usageError);
if (options is null)
{
    if (usageError is not null) Console.Error.WriteLine($"cvhost: {usageError}");
    (usageError is null ? Console.Out : Console.Error).WriteLine(HostOptions.Usage);
    return usageError is null ? 0 : 2;
}

var manifest = options.ModulePath is { } given ? Path.GetFullPath(given) : ManifestLocator.Find();
if (manifest is null || !File.Exists(manifest))
{
    Console.Error.WriteLine(manifest is null
        ? $"cvhost: {ManifestLocator.ManifestName} not found above '{Environment.CurrentDirectory}' or '{AppContext.BaseDirectory}'; pass -Module <path>."
        : $"cvhost: module manifest '{manifest}' does not exist.");
    return 2;
}
if (options.ScriptFile is { } file && !File.Exists(file))
{
    Console.Error.WriteLine($"cvhost: script '{file}' does not exist.");
    return 2;
}

return ScriptRunner.Run(options, manifest);
