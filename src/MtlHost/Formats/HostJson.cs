using System.Text.Json;
using System.Text.Json.Serialization;

namespace MtlHost.Formats;

/// <summary>JSON settings of everything the host prints or saves: camelCase, non-finite numbers as strings.</summary>
public static class HostJson
{
    /// <summary>The options.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        WriteIndented = false,
    };
}
