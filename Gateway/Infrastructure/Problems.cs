using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;

namespace GroupPay.Gateway.Infrastructure;

/// <summary>RFC 9457 problem details with the stable <c>code</c> extension the H5 app switches on (docs/api.md §3.2, §12).</summary>
internal static class Problems
{
    public const string CodeExtension = "code";

    public static ProblemHttpResult Create(int status, string code, string detail) =>
        TypedResults.Problem(Details(status, code, detail));

    /// <summary>400 <c>invalid-request</c>: malformed input refused at the edge.</summary>
    public static ProblemHttpResult Invalid(string detail) => Create(StatusCodes.Status400BadRequest, "invalid-request", detail);

    public static ProblemDetails Details(int status, string code, string detail) => new()
    {
        Status = status,
        Detail = detail,
        Extensions = { [CodeExtension] = code },
    };

    /// <summary>Writes a problem from middleware or an authentication handler (no endpoint result to return).</summary>
    public static async Task WriteAsync(HttpContext context, int status, string code, string detail)
    {
        context.Response.StatusCode = status;
        var service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await service.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = Details(status, code, detail) });
    }
}
