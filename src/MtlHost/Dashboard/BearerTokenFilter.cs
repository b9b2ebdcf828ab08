using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace MtlHost.Dashboard;

/// <summary>
/// Lets a control request through only with <c>Authorization: Bearer &lt;Dashboard:Token&gt;</c>. Without a configured
/// token every control request is refused: watching needs no token, changing the run does.
/// </summary>
public sealed class BearerTokenFilter : IEndpointFilter
{
    private readonly byte[]? _tokenHash;

    /// <summary>Creates the filter.</summary>
    /// <param name="options">Holds the token, if any.</param>
    public BearerTokenFilter(DashboardOptions options)
    {
        _tokenHash = options.Token is null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.Token));
    }

    /// <inheritdoc />
    public ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        if (_tokenHash is null)
        {
            return Refuse(context, "Control endpoints are off: no token is configured. Set Dashboard:Token (or MTLHOST_Dashboard__Token) " +
                                   "and send it as 'Authorization: Bearer <token>'.");
        }
        var header = context.HttpContext.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return Refuse(context, "This endpoint changes the run: send the token of Dashboard:Token as 'Authorization: Bearer <token>'.");
        }
        // Hashes have one length, so the comparison takes the same time whatever was sent.
        var sent = SHA256.HashData(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()));
        if (!CryptographicOperations.FixedTimeEquals(sent, _tokenHash))
        {
            return Refuse(context, "The bearer token is not the one of Dashboard:Token.");
        }
        return next(context);
    }

    private static ValueTask<object?> Refuse(EndpointFilterInvocationContext context, string message)
    {
        context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return ValueTask.FromResult<object?>(Results.Json(new { error = message }, statusCode: StatusCodes.Status401Unauthorized));
    }
}
