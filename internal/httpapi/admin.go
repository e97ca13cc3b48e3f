package httpapi

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/vippsmgmt/vippsmgmt"
	"github.com/vippsmgmt/vippsmgmt/internal/openapi"
)

// The operator API (/admin/v1) does what the console does, for scripts and tests. The admin-token
// check happens before routing (Server.authenticate).

func (s *Server) clockOut() openapi.AdminClock {
	return openapi.AdminClock{Now: s.clock.Now(), Offset: s.clock.Offset().String()}
}

// AdminGetClock serves GET /admin/v1/clock.
func (s *Server) AdminGetClock(ctx context.Context, _ openapi.AdminGetClockRequestObject) (openapi.AdminGetClockResponseObject, error) {
	if err := s.clock.Refresh(ctx, s.store); err != nil {
		return nil, err
	}
	return openapi.AdminGetClock200JSONResponse(s.clockOut()), nil
}

// AdminAdvanceClock serves POST /admin/v1/clock: moves the server's clock forward, or back to
// real time, for every process on the database.
func (s *Server) AdminAdvanceClock(ctx context.Context, req openapi.AdminAdvanceClockRequestObject) (openapi.AdminAdvanceClockResponseObject, error) {
	reset := req.Body.Reset != nil && *req.Body.Reset
	switch {
	case req.Body.Advance != nil && req.Body.Reset != nil:
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "reset", Problem: "must not be given with advance: give exactly one of them"}})
	case req.Body.Reset != nil && !reset:
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "reset", Problem: "must be true; to move the clock forward give advance instead"}})
	case reset:
		if err := s.clock.Reset(ctx, s.store); err != nil {
			return nil, err
		}
		return openapi.AdminAdvanceClock200JSONResponse(s.clockOut()), nil
	case req.Body.Advance == nil:
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "advance", Problem: "is required (or reset: true)"}})
	}
	d, err := time.ParseDuration(*req.Body.Advance)
	if err != nil || d <= 0 || d > 100*365*24*time.Hour {
		return nil, vippsmgmt.InvalidFields([]vippsmgmt.FieldError{{Field: "advance", Problem: "must be a positive duration such as 90m or 337h"}})
	}
	if err := s.advanceClock(ctx, d); err != nil {
		return nil, err
	}
	return openapi.AdminAdvanceClock200JSONResponse(s.clockOut()), nil
}

// listPage answers one page of an operator list: it checks the limit and cursor the client sent,
// reads from find one item more than the page (which tells whether another page follows) and
// converts the items of the page with out. next is the Vippsmgmt-Next-Cursor header, nil on the
// last page. Handlers return the error beside their response: the strict wrapper answers the
// error and never writes a response that comes with one.
func listPage[T, W any](l vippsmgmt.List[T], limit *int, cursor *string, find func(vippsmgmt.Page) ([]T, error), out func(T) (W, error)) (body []W, next *string, err error) {
	p, err := l.ParsePage(limit, cursor)
	if err != nil {
		return nil, nil, err
	}
	items, err := find(p.Fetch())
	if err != nil {
		return nil, nil, err
	}
	items, c := l.Cut(p, items)
	body = make([]W, 0, len(items))
	for _, item := range items {
		w, err := out(item)
		if err != nil {
			return nil, nil, err
		}
		body = append(body, w)
	}
	if c != "" {
		next = &c
	}
	return body, next, nil
}

// infallible adapts a conversion that cannot fail to listPage.
func infallible[T, W any](f func(T) W) func(T) (W, error) {
	return func(t T) (W, error) { return f(t), nil }
}

func notificationOut(n *vippsmgmt.Notification) openapi.AdminNotification {
	w := openapi.AdminNotification{
		Id: n.ID, ProductOrderId: uuid.MustParse(n.OrderID), Recipient: openapi.AdminNotificationRecipient(n.Recipient),
		RecipientName: n.RecipientName, Subject: n.Subject, Body: n.Body, CreatedAt: n.CreatedAt, SentAt: n.SentAt,
	}
	if n.LastError != "" {
		w.LastError = &n.LastError
	}
	return w
}

// AdminListNotifications serves GET /admin/v1/notifications.
func (s *Server) AdminListNotifications(ctx context.Context, req openapi.AdminListNotificationsRequestObject) (openapi.AdminListNotificationsResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]*vippsmgmt.Notification, error) { return s.store.FindNotifications(ctx, p) }
	body, next, err := listPage(vippsmgmt.NotificationList, req.Params.Limit, req.Params.Cursor, find, infallible(notificationOut))
	return openapi.AdminListNotifications200JSONResponse{Body: body, Headers: openapi.AdminListNotifications200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}

func requestOut(r RequestRecord) openapi.AdminRequest {
	return openapi.AdminRequest{
		Time: r.Time, RequestId: r.RequestID, Caller: r.Caller, Method: r.Method, Route: r.Route, Status: r.Status,
		LatencyMs: r.LatencyMs, SystemName: nonEmpty(r.SystemName), SystemVersion: nonEmpty(r.SystemVersion),
		PluginName: nonEmpty(r.PluginName), PluginVersion: nonEmpty(r.PluginVersion),
		Injected: injectedOut(r.Injected), FaultRule: nonEmpty(r.FaultRule),
	}
}

// AdminListRequests serves GET /admin/v1/requests: the request log.
func (s *Server) AdminListRequests(ctx context.Context, req openapi.AdminListRequestsRequestObject) (openapi.AdminListRequestsResponseObject, error) {
	find := func(p vippsmgmt.Page) ([]RequestRecord, error) { return s.requests.Page(p), nil }
	body, next, err := listPage(RequestList, req.Params.Limit, req.Params.Cursor, find, infallible(requestOut))
	return openapi.AdminListRequests200JSONResponse{Body: body, Headers: openapi.AdminListRequests200ResponseHeaders{VippsmgmtNextCursor: next}}, err
}
