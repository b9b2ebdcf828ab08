using Shouldly;
using TorchSharp;
using MtlHost.Tests.Infrastructure;
using Xunit;

namespace MtlHost.Tests;

/// <summary>
/// TorchSharp's native library must load on this system (Debian 12's libstdc++ lacks GLIBCXX_3.4.32;
/// the build marks that version need weak in the copies it produces).
/// </summary>
public sealed class NativeLibraryTests
{
    [Fact]
    public void TorchSharp_loads_and_multiplies_matrices()
    {
        using var a = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        using var b = torch.ones(3, 4);
        using var product = a.matmul(b);

        product.shape.ShouldBe([2L, 4L]);
        product[0, 0].item<float>().ShouldBe(0f + 1f + 2f);
        product[1, 3].item<float>().ShouldBe(3f + 4f + 5f);
    }

    [Fact]
    public void The_native_library_in_the_build_output_names_no_hard_GLIBCXX_3_4_32_need()
    {
        var library = Directory.GetFiles(AppContext.BaseDirectory, "libLibTorchSharp.so", SearchOption.AllDirectories).FirstOrDefault();
        if (library is null || !OperatingSystem.IsLinux())
        {
            return;
        }
        ElfVersionNeeds.Read(library).Where(n => n.Name == "GLIBCXX_3.4.32").ShouldAllBe(n => n.IsWeak || SystemHasGlibcxx3432());
    }

    private static bool SystemHasGlibcxx3432()
    {
        foreach (var path in new[] { "/usr/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib64/libstdc++.so.6", "/lib/x86_64-linux-gnu/libstdc++.so.6" })
        {
            if (File.Exists(path) && System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(path)).Contains("GLIBCXX_3.4.32", StringComparison.Ordinal))
            {
                return true;
            }
        }
        return false;
    }
}
