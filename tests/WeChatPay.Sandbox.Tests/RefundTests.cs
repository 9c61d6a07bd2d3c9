using GroupPay.WeChatPay.Protocol;
using GroupPay.WeChatPay.Sandbox.Tests.Infrastructure;

namespace GroupPay.WeChatPay.Sandbox.Tests;

public sealed class RefundTests
{
    [Fact]
    public async Task RefundAnswersWithTheRefundAndTheOrderReportsRefund()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var outRefundNo = SandboxServer.NewOutRefundNo();

        var response = await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 100);

        SandboxServer.AssertSuccess(response);
        Assert.Equal(transactionId, response["transaction_id"]);
        Assert.Equal(outTradeNo, response["out_trade_no"]);
        Assert.Equal(outRefundNo, response["out_refund_no"]);
        Assert.Matches("^50[0-9]{27}$", response["refund_id"]);
        Assert.Equal("100", response["refund_fee"]);
        Assert.Equal("300", response["total_fee"]);
        Assert.Equal("300", response["cash_fee"]);
        Assert.Equal("REFUND", (await sandbox.OrderQueryAsync(outTradeNo))["trade_state"]);
    }

    [Fact]
    public async Task RefundByTransactionIdFindsTheOrder()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);

        var response = await sandbox.CallAsync("/secapi/pay/refund", new Dictionary<string, string>
        {
            ["transaction_id"] = transactionId,
            ["out_refund_no"] = SandboxServer.NewOutRefundNo(),
            ["total_fee"] = "300",
            ["refund_fee"] = "300",
        });

        SandboxServer.AssertSuccess(response);
        Assert.Equal(outTradeNo, response["out_trade_no"]);
    }

    [Fact]
    public async Task TheSameOutRefundNoWithTheSameAmountReturnsTheSameRefund()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var outRefundNo = SandboxServer.NewOutRefundNo();

        var first = await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 200);
        var again = await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 200);

        SandboxServer.AssertSuccess(again);
        Assert.Equal(first["refund_id"], again["refund_id"]);
        var order = await sandbox.OrderAsync(outTradeNo);
        Assert.Equal(1, order.GetProperty("refunds").GetArrayLength());
        Assert.Equal(200, order.GetProperty("refundedFee").GetInt64());
    }

    [Fact]
    public async Task TheSameOutRefundNoWithAnotherAmountIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var outRefundNo = SandboxServer.NewOutRefundNo();
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 200));

        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 100), "INVALID_REQUEST");
    }

    [Fact]
    public async Task AnOutRefundNoUsedOnAnotherOrderIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var first = SandboxServer.NewOutTradeNo();
        var second = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(first, totalFee: 300);
        await sandbox.PlaceAndPayAsync(second, totalFee: 300);
        var outRefundNo = SandboxServer.NewOutRefundNo();
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(first, outRefundNo, 300, 100));

        SandboxServer.AssertFail(await sandbox.RefundAsync(second, outRefundNo, 300, 100), "INVALID_REQUEST");
    }

    [Fact]
    public async Task ARefundAboveThePaidAmountIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);

        var response = await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 301);

        SandboxServer.AssertFail(response, "ERROR");
        Assert.Equal("退款金额大于支付金额", response["err_code_des"]);
    }

    [Fact]
    public async Task PartialRefundsAreCappedAtThePaidAmount()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);

        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 100));
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 150));
        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 51), "ERROR");
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 50));
        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 1), "ERROR");

        Assert.Equal(300, (await sandbox.OrderAsync(outTradeNo)).GetProperty("refundedFee").GetInt64());
    }

    [Fact]
    public async Task ATotalFeeOtherThanTheOrdersIsRefused()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);

        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 299, 100), "INVALID_REQUEST");
    }

    [Fact]
    public async Task RefundingAnUnpaidOrderIsOrderNotExist()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        SandboxServer.AssertSuccess(await sandbox.UnifiedOrderAsync(outTradeNo, totalFee: 300));

        SandboxServer.AssertFail(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 100), "ORDERNOTEXIST");
        SandboxServer.AssertFail(await sandbox.RefundAsync(SandboxServer.NewOutTradeNo(), SandboxServer.NewOutRefundNo(), 300, 100), "ORDERNOTEXIST");
    }

    [Theory]
    [InlineData("out_refund_no", "has space")]
    [InlineData("refund_fee", "0")]
    [InlineData("refund_fee", "1.5")]
    public async Task RefusesMalformedRefundFieldsWithParamError(string field, string value)
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var fields = new Dictionary<string, string>
        {
            ["out_trade_no"] = outTradeNo,
            ["out_refund_no"] = SandboxServer.NewOutRefundNo(),
            ["total_fee"] = "300",
            ["refund_fee"] = "100",
        };
        fields[field] = value;

        SandboxServer.AssertFail(await sandbox.CallAsync("/secapi/pay/refund", fields), "PARAM_ERROR");
    }

    [Fact]
    public async Task TheRefundNotifyReachesTheNotifyUrlAndItsReqInfoDecryptsWithTheApiKey()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        var transactionId = await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var outRefundNo = SandboxServer.NewOutRefundNo();
        var refund = await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 120, receiver.RefundUrl);

        var notify = (await receiver.WaitForAsync(1, "/refund-notify"))[0].Message;

        Assert.Equal("SUCCESS", notify["return_code"]);
        Assert.Equal(SandboxServer.AppId, notify["appid"]);
        Assert.Equal(SandboxServer.MchId, notify["mch_id"]);
        Assert.Null(notify["sign"]);
        var details = WeChatPayXml.Parse(RefundNotifyCipher.Decrypt(notify.GetRequired("req_info"), SandboxServer.ApiKey), rootName: "root");
        Assert.Equal(transactionId, details["transaction_id"]);
        Assert.Equal(outTradeNo, details["out_trade_no"]);
        Assert.Equal(refund["refund_id"], details["refund_id"]);
        Assert.Equal(outRefundNo, details["out_refund_no"]);
        Assert.Equal("300", details["total_fee"]);
        Assert.Equal("120", details["refund_fee"]);
        Assert.Equal("120", details["settlement_refund_fee"]);
        Assert.Equal("SUCCESS", details["refund_status"]);
        Assert.True(WeChatPayTime.TryParseDashed(details["success_time"], out _));
        Assert.Equal("支付用户的零钱", details["refund_recv_accout"]);
        Assert.Equal("REFUND_SOURCE_RECHARGE_FUNDS", details["refund_account"]);
        Assert.Equal("API", details["refund_request_source"]);
    }

    [Fact]
    public async Task ARefundWithoutNotifyUrlNotifiesTheConfiguredRefundNotifyUrl()
    {
        await using var receiver = await NotifyReceiver.StartAsync();
        await using var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?> { ["Sandbox:RefundNotifyUrl"] = receiver.RefundUrl });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);

        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 300));

        var notify = (await receiver.WaitForAsync(1, "/refund-notify"))[0].Message;
        var details = WeChatPayXml.Parse(RefundNotifyCipher.Decrypt(notify.GetRequired("req_info"), SandboxServer.ApiKey), rootName: "root");
        Assert.Equal(outTradeNo, details["out_trade_no"]);
    }

    [Fact]
    public async Task RefundQueryReportsProcessingThenSuccessOnceTheClockPassesTheSettleDelay()
    {
        // Real-time settlement is pushed out of reach, so only the sandbox clock can settle the refund.
        await using var sandbox = await SandboxServer.StartAsync(new Dictionary<string, string?>
        {
            ["Sandbox:TimeScale"] = "1",
            ["Sandbox:RefundSettleDelay"] = "01:00:00",
        });
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var outRefundNo = SandboxServer.NewOutRefundNo();
        var refund = await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 100);

        var processing = await sandbox.RefundQueryAsync("out_refund_no", outRefundNo);
        SandboxServer.AssertSuccess(processing);
        Assert.Equal("1", processing["refund_count"]);
        Assert.Equal("PROCESSING", processing["refund_status_0"]);
        Assert.Null(processing["refund_success_time_0"]);

        await sandbox.AdvanceClockAsync(TimeSpan.FromHours(1));
        var success = await sandbox.RefundQueryAsync("refund_id", refund.GetRequired("refund_id"));

        SandboxServer.AssertSuccess(success);
        Assert.Equal("SUCCESS", success["refund_status_0"]);
        Assert.True(WeChatPayTime.TryParseDashed(success["refund_success_time_0"], out _));
        Assert.Equal(outRefundNo, success["out_refund_no_0"]);
        Assert.Equal("100", success["refund_fee_0"]);
        Assert.Equal("ORIGINAL", success["refund_channel_0"]);
        Assert.Equal("支付用户的零钱", success["refund_recv_accout_0"]);
        Assert.Equal("300", success["total_fee"]);
        Assert.Equal("300", success["cash_fee"]);
        Assert.Equal(outTradeNo, success["out_trade_no"]);
    }

    [Fact]
    public async Task RefundsSettleOnTheirOwnAfterTheScaledDelay()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, SandboxServer.NewOutRefundNo(), 300, 100));

        await sandbox.WaitForOrderAsync(outTradeNo, o => o.GetProperty("refunds")[0].GetProperty("status").GetString() == "SUCCESS", "the refund to settle");
    }

    [Fact]
    public async Task RefundQueryByOrderListsEveryRefund()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        var refundNos = new[] { SandboxServer.NewOutRefundNo(), SandboxServer.NewOutRefundNo() };
        foreach (var outRefundNo in refundNos)
        {
            SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 100));
        }

        var response = await sandbox.RefundQueryAsync("out_trade_no", outTradeNo);

        SandboxServer.AssertSuccess(response);
        Assert.Equal("2", response["refund_count"]);
        Assert.Equal(refundNos, new[] { response["out_refund_no_0"], response["out_refund_no_1"] });
    }

    [Fact]
    public async Task RefundQueryOfAnUnknownRefundIsRefundNotExist()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo);

        SandboxServer.AssertFail(await sandbox.RefundQueryAsync("out_refund_no", SandboxServer.NewOutRefundNo()), "REFUNDNOTEXIST");
        SandboxServer.AssertFail(await sandbox.RefundQueryAsync("out_trade_no", outTradeNo), "REFUNDNOTEXIST");
    }

    [Fact]
    public async Task RefundsStayProcessingWhileTheFaultIsOnAndSettleWithANotifyWhenItIsCleared()
    {
        await using var sandbox = await SandboxServer.StartAsync();
        await using var receiver = await NotifyReceiver.StartAsync();
        var outTradeNo = SandboxServer.NewOutTradeNo();
        await sandbox.PlaceAndPayAsync(outTradeNo, totalFee: 300);
        await sandbox.SetFaultsAsync(new { refundsStayProcessing = true });
        var outRefundNo = SandboxServer.NewOutRefundNo();
        SandboxServer.AssertSuccess(await sandbox.RefundAsync(outTradeNo, outRefundNo, 300, 100, receiver.RefundUrl));

        // Even past the settle delay on the sandbox clock, the refund stays PROCESSING.
        await sandbox.AdvanceClockAsync(TimeSpan.FromMinutes(10));
        Assert.Equal("PROCESSING", (await sandbox.RefundQueryAsync("out_refund_no", outRefundNo))["refund_status_0"]);
        Assert.Empty(receiver.Received);

        using var reset = await sandbox.Http.DeleteAsync(new Uri("/sandbox/faults", UriKind.Relative));
        reset.EnsureSuccessStatusCode();

        await receiver.WaitForAsync(1, "/refund-notify");
        Assert.Equal("SUCCESS", (await sandbox.RefundQueryAsync("out_refund_no", outRefundNo))["refund_status_0"]);
    }
}
