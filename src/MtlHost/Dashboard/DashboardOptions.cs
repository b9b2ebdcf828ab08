using Microsoft.Extensions.Configuration;
using MtlHost.Cli;

namespace MtlHost.Dashboard;

/// <summary>Settings of the dashboard and its API (section <c>Dashboard</c>), checked when read.</summary>
/// <param name="Token">
/// The bearer token the control endpoints require (<c>Dashboard:Token</c>, <c>MTLHOST_Dashboard__Token</c>); without one
/// they answer 401 and the run can only be watched.
/// </param>
public sealed record DashboardOptions(string? Token)
{
    /// <summary>Shortest token accepted: guessing it must be hopeless.</summary>
    public const int MinimumTokenLength = 16;

    /// <summary>Reads and checks the settings.</summary>
    /// <param name="configuration">The layered configuration.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="UsageException">The token is too short.</exception>
    public static DashboardOptions Read(IConfiguration configuration)
    {
        var token = configuration["Dashboard:Token"];
        if (string.IsNullOrWhiteSpace(token))
        {
            return new DashboardOptions((string?)null);
        }
        token = token.Trim();
        if (token.Length < MinimumTokenLength)
        {
            throw new UsageException($"Dashboard:Token has {token.Length} characters; use at least {MinimumTokenLength}, " +
                                     "for example the output of 'openssl rand -hex 32'.");
        }
        return new DashboardOptions(token);
    }
}
