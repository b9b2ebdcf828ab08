namespace MtlHost.Abstractions;

/// <summary>Version of the plugin contract this SDK implements.</summary>
public static class SdkInfo
{
    /// <summary>
    /// The SDK's assembly version. Its major part is the contract version: a host accepts plugins
    /// built against the same major version and refuses others.
    /// </summary>
    public static Version Version { get; } = typeof(SdkInfo).Assembly.GetName().Version ?? new Version(0, 0);
}
