using System.IO.Compression;
using System.Text;
using GroupPay.WeChatPay.Bills;
using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

/// <summary><c>/pay/downloadbill</c>: the bill of a China-time day from what the sandbox recorded.</summary>
public sealed class BillTests
{
    private static readonly TimeOnly TenAm = new(10, 0);

    /// <summary>Moves the clock to the next China day at 10:00, so every trade of a test falls on that day; returns it.</summary>
    private static async Task<DateOnly> StartTheDayAsync(SandboxServer sandbox)
    {
        var day = DateOnly.FromDateTime((await sandbox.ChinaNowAsync()).DateTime).AddDays(1);
        await sandbox.MoveClockToAsync(day, TenAm);
        return day;
    }

    private static Dictionary<string, string> Fields(DateOnly day, string? billType = null, bool gzip = false)
    {
        var fields = new Dictionary<string, string> { ["bill_date"] = day.ToString("yyyyMMdd", null) };
        if (billType is not null)
        {
            fields["bill_type"] = billType;
        }
        if (gzip)
        {
            fields["tar_type"] = "GZIP";
        }
        return fields;
    }

    private static async Task<TradeBill> DownloadAsync(SandboxServer sandbox, DateOnly day, string? billType = null, bool gzip = false)
    {
        var (body, contentType) = await sandbox.DownloadBillRawAsync(Fields(day, billType, gzip));
        if (gzip)
        {
            Assert.Equal([0x1F, 0x8B], body[..2]);
            using var input = new GZipStream(new MemoryStream(body), CompressionMode.Decompress);
            using var output = new MemoryStream();
            await input.CopyToAsync(output);
            body = output.ToArray();
        }
        else
        {
            Assert.Equal("text/plain; charset=utf-8", contentType?.Replace(";charset", "; charset", StringComparison.Ordinal));
        }
        return TradeBillParser.Parse(Encoding.UTF8.GetString(body), day);
    }

    private static async Task<WeChatPayMessage> DownloadFailureAsync(SandboxServer sandbox, Dictionary<string, string> fields)
    {
        var (body, _) = await sandbox.DownloadBillRawAsync(fields);
        var answer = WeChatPayXml.Parse(body);
        Assert.Equal("FAIL", answer["return_code"]);
        Assert.Null(answer["sign"]);
        return answer;
    }

    private static async Task RefundAndSettleAsync(SandboxServer sandbox, string outTradeNo, string outRefundNo, long total, long fee, string status)
    {
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, outRefundNo, total, fee));
        await sandbox.WaitForOrderAsync(outTradeNo,
            o => o.GetProperty("refunds").EnumerateArray().Any(r => r.GetProperty("outRefundNo").GetString() == outRefundNo && r.GetProperty("status").GetString() == status),
            $"refund {outRefundNo} to end {status}");
    }

    [Fact]
    public async Task TheBillListsTheDaysPaymentsAndRefundsWithFeesInFen()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var day = await StartTheDayAsync(sandbox);
        var (a, b, c) = (SandboxServer.NewOutTradeNo(), SandboxServer.NewOutTradeNo(), SandboxServer.NewOutTradeNo());
        await sandbox.SetFaultsAsync(new { couponOnNextNotify = new { couponFee = 100 } });
        var transactionA = await sandbox.PlaceAndPayAsync(a, totalFee: 1990);
        await sandbox.PlaceAndPayAsync(b, totalFee: 1000);
        await sandbox.PlaceAndPayAsync(c, totalFee: 500);
        await RefundAndSettleAsync(sandbox, b, "RB1", 1000, 400, "SUCCESS");
        await sandbox.SetFaultsAsync(new { refundOutcomes = new { refundClose = 1 } });
        await RefundAndSettleAsync(sandbox, c, "RC1", 500, 500, "REFUNDCLOSE");
        await RefundAndSettleAsync(sandbox, c, "RC2", 500, 500, "SUCCESS");
        using var console = await sandbox.PostJsonAsync($"/sandbox/orders/{a}/console-refund", new { });
        console.EnsureSuccessStatusCode();
        await sandbox.WaitForOrderAsync(a, o => o.GetProperty("refunds")[0].GetProperty("status").GetString() == "SUCCESS", "the console refund");
        await sandbox.MoveClockToAsync(day.AddDays(1), new TimeOnly(9, 0, 1));

        var bill = await DownloadAsync(sandbox, day);

        Assert.Equal(7, bill.Rows.Count);
        var payA = Assert.Single(bill.Rows, r => r.OutTradeNo == a && r.TradeState == "SUCCESS");
        Assert.Equal((transactionA, SandboxServer.Alice, "JSAPI", 1990L, 100L, 12L, "0.60%", 1990L, "0", 0L),
            (payA.TransactionId, payA.OpenId, payA.TradeType, payA.SettlementTotalFeeFen!.Value, payA.CouponFeeFen!.Value, payA.ServiceFeeFen!.Value,
                payA.Rate, payA.TotalFeeFen!.Value, payA.RefundId, payA.RefundFeeFen!.Value));
        Assert.Equal((SandboxServer.AppId, SandboxServer.MchId, "CFT", "CNY"), (payA.AppId, payA.MchId, payA.BankType, payA.FeeType));
        Assert.Equal(day, DateOnly.FromDateTime(payA.TradeTime.DateTime));
        Assert.Equal(TimeSpan.FromHours(8), payA.TradeTime.Offset);
        Assert.Equal(6, Assert.Single(bill.Rows, r => r.OutTradeNo == b && r.TradeState == "SUCCESS").ServiceFeeFen);
        Assert.Equal(3, Assert.Single(bill.Rows, r => r.OutTradeNo == c && r.TradeState == "SUCCESS").ServiceFeeFen);
        Assert.Equal(
            [("RB1", 400L, 400L, -2L, "SUCCESS"), ("RC1", 0L, 500L, 0L, "REFUNDCLOSE"), ("RC2", 500L, 500L, -3L, "SUCCESS")],
            bill.Rows.Where(r => r.TradeState == "REFUND" && r.OutTradeNo != a).OrderBy(r => r.OutRefundNo, StringComparer.Ordinal)
                .Select(r => (r.OutRefundNo, r.RefundFeeFen!.Value, r.RequestedRefundFeeFen!.Value, r.ServiceFeeFen!.Value, r.RefundStatus)));
        var consoleRow = Assert.Single(bill.Rows, r => r.OutTradeNo == a && r.TradeState == "REFUND");
        Assert.Equal((consoleRow.RefundId, 1990L, -12L, "ORIGINAL", 0L, 0L), (consoleRow.OutRefundNo, consoleRow.RefundFeeFen!.Value,
            consoleRow.ServiceFeeFen!.Value, consoleRow.RefundType, consoleRow.TotalFeeFen!.Value, consoleRow.SettlementTotalFeeFen!.Value));
        Assert.Equal(new TradeBillSummary(7, 3490, 2890, 0, 4, 3490, 3390), bill.Summary);
    }

    [Fact]
    public async Task SuccessAndRefundBillsFilterTheRowsAndGzipWhenAsked()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var day = await StartTheDayAsync(sandbox);
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        await RefundAndSettleAsync(sandbox, outTradeNo, "R1", 300, 100, "SUCCESS");
        await sandbox.MoveClockToAsync(day.AddDays(1), TenAm);

        var payments = await DownloadAsync(sandbox, day, "SUCCESS");
        var refunds = await DownloadAsync(sandbox, day, "REFUND", gzip: true);

        var payment = Assert.Single(payments.Rows);
        Assert.Equal(("SUCCESS", 300L, 2L, null), (payment.TradeState, payment.TotalFeeFen!.Value, payment.ServiceFeeFen!.Value, payment.RefundId));
        Assert.Equal(new TradeBillSummary(1, 300, 0, 0, 2, 300, 0), payments.Summary);
        var refund = Assert.Single(refunds.Rows);
        Assert.Equal(("REFUND", "R1", 100L, -1L, "SUCCESS"), (refund.TradeState, refund.OutRefundNo, refund.RefundFeeFen!.Value, refund.ServiceFeeFen!.Value, refund.RefundStatus));
        Assert.Equal(refund.TradeTime, refund.RefundApplyTime);
        Assert.NotNull(refund.RefundSuccessTime);
        Assert.Equal(new TradeBillSummary(1, 0, 100, 0, -1, 0, 100), refunds.Summary);
        Assert.Equal(2, (await DownloadAsync(sandbox, day, "ALL", gzip: true)).Rows.Count);
    }

    [Fact]
    public async Task ADaysBillIsCreatingUntilNineTheNextMorningChinaTime()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var day = await StartTheDayAsync(sandbox);
        await sandbox.PlaceAndPayAsync(SandboxServer.NewOutTradeNo());

        var sameDay = await DownloadFailureAsync(sandbox, Fields(day));
        await sandbox.MoveClockToAsync(day.AddDays(1), new TimeOnly(8, 59));
        var justBefore = await DownloadFailureAsync(sandbox, Fields(day));
        await sandbox.MoveClockToAsync(day.AddDays(1), new TimeOnly(9, 0));
        var bill = await DownloadAsync(sandbox, day);

        Assert.Equal(("Bill Creating", null), (sameDay["return_msg"], sameDay["error_code"]));
        Assert.Equal("Bill Creating", justBefore["return_msg"]);
        Assert.Single(bill.Rows);
    }

    [Fact]
    public async Task BillReadyAfterMovesThePublicationTime()
    {
        await using var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?> { ["Sandbox:BillReadyAfter"] = "11:30:00" });
        var day = await StartTheDayAsync(sandbox);
        await sandbox.PlaceAndPayAsync(SandboxServer.NewOutTradeNo());
        await sandbox.MoveClockToAsync(day.AddDays(1), new TimeOnly(11, 0));

        Assert.Equal("Bill Creating", (await DownloadFailureAsync(sandbox, Fields(day)))["return_msg"]);
        await sandbox.MoveClockToAsync(day.AddDays(1), new TimeOnly(11, 30));
        Assert.Single((await DownloadAsync(sandbox, day)).Rows);
    }

    [Fact]
    public async Task ADayWithoutTradesHasNoBill()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var day = await StartTheDayAsync(sandbox);
        await sandbox.PlaceAndPayAsync(SandboxServer.NewOutTradeNo());
        await sandbox.MoveClockToAsync(day.AddDays(2), TenAm);

        var empty = await DownloadFailureAsync(sandbox, Fields(day.AddDays(1)));
        var noRefunds = await DownloadFailureAsync(sandbox, Fields(day, "REFUND"));

        Assert.Equal(("No Bill Exist", "20002"), (empty["return_msg"], empty["error_code"]));
        Assert.Equal(("No Bill Exist", "20002"), (noRefunds["return_msg"], noRefunds["error_code"]));
    }

    [Fact]
    public async Task AnInjectedSystemErrorFailsTheNextDownloadsOnly()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var day = await StartTheDayAsync(sandbox);
        await sandbox.PlaceAndPayAsync(SandboxServer.NewOutTradeNo());
        await sandbox.MoveClockToAsync(day.AddDays(1), TenAm);
        await sandbox.SetFaultsAsync(new { systemErrors = new { downloadbill = 2 } });

        var first = await DownloadFailureAsync(sandbox, Fields(day));
        var second = await DownloadFailureAsync(sandbox, Fields(day, gzip: true));

        Assert.Equal(("SYSTEMERROR", "SYSTEMERROR"), (first["return_msg"], second["return_msg"]));
        Assert.Single((await DownloadAsync(sandbox, day)).Rows);
    }

    [Theory]
    [InlineData("2026-11-30", null, "invalid bill_date", "20001")]
    [InlineData("20261131", null, "invalid bill_date", "20001")]
    [InlineData("20200101", null, "invalid bill_date", "20001")]
    [InlineData("20261130", "PAID", "invalid bill_type", null)]
    public async Task RefusesAMalformedRequestWithWeChatsBillMessages(string billDate, string? billType, string returnMsg, string? errorCode)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var fields = new Dictionary<string, string> { ["bill_date"] = billDate };
        if (billType is not null)
        {
            fields["bill_type"] = billType;
        }

        var answer = await DownloadFailureAsync(sandbox, fields);

        Assert.Equal((returnMsg, errorCode), (answer["return_msg"], answer["error_code"]));
    }

    [Fact]
    public async Task ABadSignatureIsRefusedBeforeTheBill()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var request = SandboxServer.SignRequest(Fields(new DateOnly(2026, 11, 30)), apiKey: "00000000000000000000000000000000");

        var answer = await sandbox.PostRawAsync("/pay/downloadbill", WeChatPayXml.SerializeToUtf8(request));

        SandboxServer.AssertReturnFail(answer, "签名错误");
    }
}
