using System.Globalization;

namespace MtlHost.Hosting;

/// <summary>
/// Makes the invariant culture the host's current culture, whatever the user's locale (<c>LANG</c>, <c>LC_ALL</c>):
/// tables, JSON, logs and the parsing of options and settings then read and write <c>0.5</c>, never <c>0,5</c>, so
/// scripts that read the host's output and settings files written on another machine keep working. This replaces the
/// InvariantGlobalization build setting, which also took every real culture away from the plugins: a plugin (or one
/// of its dependencies) can still ask for one by name, such as <c>CultureInfo.GetCultureInfo("fr-FR")</c>.
/// </summary>
public static class HostCulture
{
    /// <summary>
    /// Sets the invariant culture as the current (and UI) culture of this thread, of what it starts (the setting flows
    /// with the execution context) and, as the default, of every other thread of the process that sets none itself.
    /// </summary>
    public static void UseInvariant()
    {
        CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;
    }
}
