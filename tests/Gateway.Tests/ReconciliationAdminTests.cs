using System.Globalization;
using System.Net;

namespace GroupPay.Gateway.Tests;

/// <summary>The daily reconciliation through <c>/admin/reconciliation</c> (X-Admin-Key), against the sandbox's bills.</summary>
[Collection(GatewayCollection.Name)]
public sealed class ReconciliationAdminTests(GatewayFixture fixture)
{
    private static readonly string[] ReportFields =
        ["day", "ranAt", "clean", "billExists", "billLines", "groupsRead", "runs", "bill", "groupPay", "mismatchCount", "countsByKind", "mismatches"];

    private static readonly string[] Kinds =
        ["payment-unknown", "payment-amount-differs", "payment-not-settled", "payment-partly-refunded", "refund-unknown", "refund-amount-differs",
            "refund-status-differs", "missing-from-bill"];

    /// <summary>A China-time day <paramref name="daysAgo"/> before today: the sandbox has no trades on it.</summary>
    private static string DaysAgo(int daysAgo) =>
        DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).DateTime).AddDays(-daysAgo).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? key = GatewayFixture.AdminKey)
    {
        using var request = GatewayFixture.AdminRequest(method, path, null, key);
        return await fixture.Anonymous.SendAsync(request);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-admin-key-0000000000000")]
    public async Task ReconciliationEndpointsRefuseAMissingOrWrongKey(string? key)
    {
        var day = DaysAgo(20);

        await Json.ProblemAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{day}/run", key), HttpStatusCode.Unauthorized, "admin-key");
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/reconciliation/{day}", key), HttpStatusCode.Unauthorized, "admin-key");

        // Nothing ran.
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/reconciliation/{day}"), HttpStatusCode.NotFound, "not-reconciled");
    }

    [Fact]
    public async Task ADayWithoutTradesIsRunAndReportedClean()
    {
        var day = DaysAgo(21);
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/reconciliation/{day}"), HttpStatusCode.NotFound, "not-reconciled");

        var run = await Json.ReadAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{day}/run"), HttpStatusCode.OK);
        var read = await Json.ReadAsync(await SendAsync(HttpMethod.Get, $"/admin/reconciliation/{day}"), HttpStatusCode.OK);

        Assert.Equal(ReportFields, run.PropertyNames());
        Assert.Equal((day, true, false, 0, 0, 1, 0),
            (run.GetProperty("day").GetString(), run.GetProperty("clean").GetBoolean(), run.GetProperty("billExists").GetBoolean(),
                run.GetProperty("billLines").GetInt32(), run.GetProperty("groupsRead").GetInt32(), run.GetProperty("runs").GetInt32(),
                run.GetProperty("mismatchCount").GetInt32()));
        foreach (var side in new[] { "bill", "groupPay" })
        {
            Assert.Equal(["payments", "paidFen", "refunds", "refundedFen", "feesFen", "netFen"], run.GetProperty(side).PropertyNames());
            Assert.All(run.GetProperty(side).EnumerateObject(), p => Assert.Equal(0, p.Value.GetInt64()));
        }
        Assert.Equal(Kinds, run.GetProperty("countsByKind").PropertyNames());
        Assert.All(run.GetProperty("countsByKind").EnumerateObject(), p => Assert.Equal(0, p.Value.GetInt32()));
        Assert.Equal(0, run.GetProperty("mismatches").GetArrayLength());
        Assert.Equal(run.GetRawText(), read.GetRawText());
        Assert.EndsWith("Z", run.GetProperty("ranAt").GetString(), StringComparison.Ordinal);

        var rerun = await Json.ReadAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{day}/run"), HttpStatusCode.OK);
        Assert.Equal((2, true), (rerun.GetProperty("runs").GetInt32(), rerun.GetProperty("clean").GetBoolean()));
    }

    [Fact]
    public async Task ADayWhoseBillIsNotOutYetIsAConflict()
    {
        await Json.ProblemAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{DaysAgo(0)}/run"), HttpStatusCode.Conflict, "bill-not-ready");
        await Json.ProblemAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{DaysAgo(-3)}/run"), HttpStatusCode.Conflict, "bill-not-ready");
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/reconciliation/{DaysAgo(0)}"), HttpStatusCode.NotFound, "not-reconciled");
    }

    [Fact]
    public async Task ADayWeChatNoLongerKeepsABillForIsABadGateway()
    {
        // WeChat keeps bills for three months (invalid bill_date).
        var problem = await Json.ProblemAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{DaysAgo(120)}/run"), HttpStatusCode.BadGateway, "payment-provider");
        Assert.Contains("ParamError", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-13-01")]
    [InlineData("20261201")]
    [InlineData("yesterday")]
    [InlineData("2026-12-1")]
    public async Task ADayThatIsNotADayIsRefused(string day)
    {
        await Json.ProblemAsync(await SendAsync(HttpMethod.Get, $"/admin/reconciliation/{day}"), HttpStatusCode.BadRequest, "invalid-request");
        await Json.ProblemAsync(await SendAsync(HttpMethod.Post, $"/admin/reconciliation/{day}/run"), HttpStatusCode.BadRequest, "invalid-request");
    }
}
