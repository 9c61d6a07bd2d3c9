using System.Globalization;
using System.Net;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary>The sandbox under parallel load: per-order consistency without a global lock.</summary>
public sealed class ConcurrencyTests
{
    [Fact]
    public async Task TwoHundredParallelOrdersArePaidAndNotifiedConsistently()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var orders = Enumerable.Range(0, 200).Select(_ => SandboxServer.NewOutTradeNo()).ToArray();

        var transactionIds = await Task.WhenAll(orders.Select((outTradeNo, i) =>
            sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 100 + i, notifyUrl: receiver.PaymentUrl)));

        Assert.Equal(200, transactionIds.Distinct().Count());
        var notifies = await receiver.WaitForAsync(200);
        var byOrder = notifies.Select(n => n.Message).GroupBy(m => m["out_trade_no"]!).ToDictionary(g => g.Key, g => g.First());
        Assert.Equal(orders.Order(), byOrder.Keys.Order());
        for (var i = 0; i < orders.Length; i++)
        {
            var notify = byOrder[orders[i]];
            Assert.Equal(transactionIds[i], notify["transaction_id"]);
            Assert.Equal((100 + i).ToString(CultureInfo.InvariantCulture), notify["total_fee"]);
        }
        var queries = await Task.WhenAll(orders.Select(sandbox.OrderQueryAsync));
        Assert.All(queries, q => Assert.Equal("SUCCESS", q["trade_state"]));
    }

    [Fact]
    public async Task ParallelReentriesOfOneOrderAllGetTheSamePrepayId()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => sandbox.UnifiedOrderAsync(outTradeNo)));

        Assert.All(responses, SandboxServer.AssertSuccess);
        Assert.Single(responses.Select(r => r["prepay_id"]).Distinct());
    }

    [Fact]
    public async Task ParallelCashierPaymentsOfOnePrepaySucceedExactlyOnce()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var parameters = await sandbox.PrepayAsync(outTradeNo);

        var results = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => sandbox.CashierPayAsync(parameters, SandboxServer.Alice)));

        Assert.Single(results, r => r.Status == HttpStatusCode.OK);
        Assert.All(results.Where(r => r.Status != HttpStatusCode.OK), r => Assert.Equal(HttpStatusCode.Conflict, r.Status));
    }

    [Fact]
    public async Task ParallelPartialRefundsNeverExceedThePaidAmount()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 1000);

        var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(_ =>
            sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 1000, 70)));

        Assert.Equal(14, responses.Count(r => r["result_code"] == "SUCCESS"));
        Assert.All(responses.Where(r => r["result_code"] != "SUCCESS"), r => Assert.Equal("ERROR", r["err_code"]));
        Assert.Equal(980, (await sandbox.OrderAsync(outTradeNo)).GetProperty("refundedFee").GetInt64());
    }

    [Fact]
    public async Task ParallelRetriesOfOneOutRefundNoCreateOneRefund()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 1000);
        var outRefundNo = SandboxServer.NewOutRefundNo();

        var responses = await Task.WhenAll(Enumerable.Range(0, 30).Select(_ => sandbox.RefundAsync(outTradeNo, outRefundNo, 1000, 400)));

        Assert.All(responses, SandboxServer.AssertSuccess);
        Assert.Single(responses.Select(r => r["refund_id"]).Distinct());
        Assert.Equal(400, (await sandbox.OrderAsync(outTradeNo)).GetProperty("refundedFee").GetInt64());
    }
}
