using System.Reflection.PortableExecutable;
using System.Text;

namespace ChatVector.Core.Tests;

/// <summary>
/// The DLL names a Windows PE file imports at load time (its import directory; delay-loaded DLLs are not
/// needed to load it). Read here from the file's bytes, so a Linux machine can check the win-x64 natives.
/// </summary>
internal static class PeImports
{
    public static IReadOnlyList<string> Of(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream, PEStreamOptions.PrefetchEntireImage);
        var directory = pe.PEHeaders.PEHeader?.ImportTableDirectory ?? throw new InvalidDataException($"{path}: no optional header");
        if (directory.RelativeVirtualAddress == 0) return [];
        var descriptors = pe.GetSectionData(directory.RelativeVirtualAddress).GetReader();
        var names = new List<string>();
        // IMAGE_IMPORT_DESCRIPTOR: OriginalFirstThunk, TimeDateStamp, ForwarderChain, Name (an RVA), FirstThunk; all zero ends the table.
        while (true)
        {
            uint lookup = descriptors.ReadUInt32(), stamp = descriptors.ReadUInt32(), forwarder = descriptors.ReadUInt32(), name = descriptors.ReadUInt32(), thunk = descriptors.ReadUInt32();
            if (lookup == 0 && stamp == 0 && forwarder == 0 && name == 0 && thunk == 0) return names;
            names.Add(ReadAsciiZ(pe, (int)name));
        }
    }

    private static string ReadAsciiZ(PEReader pe, int rva)
    {
        var reader = pe.GetSectionData(rva).GetReader();
        var text = new StringBuilder();
        for (byte b; (b = reader.ReadByte()) != 0;) text.Append((char)b);
        return text.ToString();
    }
}
