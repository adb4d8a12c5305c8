namespace ChatVector.Core.Native;

/// <summary>Marks version requirements (.gnu.version_r entries) of an ELF shared object weak. To be written.</summary>
public static class ElfVersionNeedPatcher
{
}
