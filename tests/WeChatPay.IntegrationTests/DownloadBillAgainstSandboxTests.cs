using System.Text.Json;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Client;
using GroupPay.WeChatPay.Protocol;

namespace GroupPay.WeChatPay.IntegrationTests;

/// <summary>The real client's downloadbill against its own sandbox (it moves the sandbox clock by days).</summary>
public sealed class DownloadBillAgainstSandboxTests(SandboxFixture sandbox) : IClassFixture<SandboxFixture>
{
    private async Task<DateTimeOffset> ChinaNowAsync()
    {
        var clock = await sandbox.Http.GetFromJsonAsync<JsonElement>("/sandbox/clock");
        return clock.GetProperty("now").GetDateTimeOffset().ToOffset(WeChatPayTime.BeijingOffset);
    }

    /// <summary>Moves the sandbox clock to <paramref name="day"/> at <paramref name="time"/>, China time (whole seconds, rounded up).</summary>
    private async Task MoveClockToAsync(DateOnly day, TimeOnly time)
    {
        var target = new DateTimeOffset(day.ToDateTime(time), WeChatPayTime.BeijingOffset);
        await sandbox.AdvanceClockAsync(TimeSpan.FromSeconds(Math.Ceiling((target - await ChinaNowAsync()).TotalSeconds) + 1));
    }

    [Fact]
    public async Task TheDownloadedBillMatchesWhatWasPaidAndRefundedInFen()
    {
        var day = DateOnly.FromDateTime((await ChinaNowAsync()).DateTime).AddDays(1);
        await MoveClockToAsync(day, new TimeOnly(10, 0));
        var before = await sandbox.Client.DownloadBillAsync(day);
        await sandbox.SetFaultsAsync(new { couponOnNextNotify = new { couponFee = 200 } });
        var first = await sandbox.PaidAsync("o-sandbox-alice", 1990);
        var second = await sandbox.PaidAsync("o-sandbox-bob", 1000);
        var refund = await sandbox.Client.RefundAsync(new RefundRequest
        {
            OutTradeNo = second.OutTradeNo,
            OutRefundNo = second.OutTradeNo + "R",
            TotalFee = 1000,
            RefundFee = 250,
        });
        Assert.True(refund.IsSuccess, refund.Error?.ToString());
        Assert.True(await SandboxFixture.EventuallyAsync(() => sandbox.Receiver.Refunds.Any(r => r.OutRefundNo == second.OutTradeNo + "R")));
        await MoveClockToAsync(day.AddDays(1), new TimeOnly(9, 0));

        var bill = (await sandbox.Client.DownloadBillAsync(day)).GetValueOrThrow();
        var refunds = (await sandbox.Client.DownloadBillAsync(day, TradeBillType.Refund)).GetValueOrThrow();
        var nextDay = await sandbox.Client.DownloadBillAsync(day.AddDays(1));

        Assert.Equal(WeChatPayErrorCode.BillCreating, before.Error!.Code);
        Assert.Equal(day, bill.BillDate);
        var paidFirst = Assert.Single(bill.Rows, r => r.OutTradeNo == first.OutTradeNo);
        Assert.Equal((first.TransactionId, "o-sandbox-alice", "SUCCESS", 1990L, 200L, 12L, 1990L),
            (paidFirst.TransactionId, paidFirst.OpenId, paidFirst.TradeState, paidFirst.SettlementTotalFeeFen!.Value, paidFirst.CouponFeeFen!.Value,
                paidFirst.ServiceFeeFen!.Value, paidFirst.TotalFeeFen!.Value));
        Assert.Equal(first.TimeEnd, paidFirst.TradeTime);
        var secondRows = bill.Rows.Where(r => r.OutTradeNo == second.OutTradeNo).ToList();
        Assert.Equal(["SUCCESS", "REFUND"], secondRows.Select(r => r.TradeState));
        Assert.Equal(6, secondRows[0].ServiceFeeFen);
        Assert.Equal((refund.Value!.RefundId, second.OutTradeNo + "R", 250L, -2L, "SUCCESS", 250L),
            (secondRows[1].RefundId, secondRows[1].OutRefundNo, secondRows[1].RefundFeeFen!.Value, secondRows[1].ServiceFeeFen!.Value,
                secondRows[1].RefundStatus, secondRows[1].RequestedRefundFeeFen!.Value));
        Assert.Equal(new TradeBillSummary(3, 2990, 250, 0, 16, 2990, 250), bill.Summary);
        Assert.Equal(secondRows[1] with { RefundApplyTime = secondRows[1].TradeTime, RefundSuccessTime = refunds.Rows[0].RefundSuccessTime }, Assert.Single(refunds.Rows));
        Assert.Equal(WeChatPayErrorCode.BillCreating, nextDay.Error!.Code);
    }
}
