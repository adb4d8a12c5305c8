// ChatVector.NativePatch <file.so> <VERSION>...
// Marks the named version requirements of an ELF shared object weak, in place (see
// ElfVersionNeedPatcher for why). Run by build/ModuleLayout.targets on the module's own copy of
// libLibTorchSharp.so, never on the NuGet cache. Exit code: 0 done (or nothing to do), 1 failure.
using ChatVector.NativePatch;

if (args.Length < 2 || args[0] is "-h" or "--help")
{
    Console.Error.WriteLine("usage: ChatVector.NativePatch <file.so> <VERSION>...   e.g. libLibTorchSharp.so GLIBCXX_3.4.32");
    return 1;
}

var file = args[0];
try
{
    var result = ElfVersionNeedPatcher.MarkWeak(file, args.Skip(1));
    foreach (var r in result.Changed)
        Console.WriteLine($"NativePatch: {file}: {r.Version} (from {r.Library}) marked weak.");
    foreach (var r in result.AlreadyWeak)
        Console.WriteLine($"NativePatch: {file}: {r.Version} (from {r.Library}) already weak.");
    foreach (var v in result.NotFound)
        Console.WriteLine($"NativePatch: {file}: {v} is not required by this file; nothing to do.");
    return 0;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
{
    // IOException covers FileNotFoundException/DirectoryNotFoundException; InvalidDataException is a malformed file.
    Console.Error.WriteLine($"NativePatch: error: {e.Message}");
    return 1;
}
